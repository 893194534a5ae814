"""``python -m streamcore.cli`` is the ``streamcore`` command."""

from streamcore.cli import main

main()
