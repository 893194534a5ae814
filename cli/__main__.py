"""``python -m cli`` is the ``streamcore`` command."""

from cli import main

main()
