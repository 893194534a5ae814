"""The state diagram of docs/subscriptions.md, generated from subscriptions/states.py.

``python -m subscriptions.diagram --write`` rewrites the Mermaid block between the markers;
``--check`` exits 1 when the document is not current (a unit test does the same).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from subscriptions.states import INITIAL, STATES, Event

DOC = Path(__file__).resolve().parent.parent / "docs" / "subscriptions.md"
BEGIN = "<!-- state-diagram:begin (python -m subscriptions.diagram --write) -->"
END = "<!-- state-diagram:end -->"


def mermaid() -> str:
    """The lifecycle as a Mermaid state diagram, one arrow per (state, event)."""
    lines = ["```mermaid", "stateDiagram-v2", f"    [*] --> {INITIAL}: {Event.SUBSCRIBE}"]
    for cls in STATES.values():
        lines.append(f"    {cls.name}: {cls.name} ({cls.description})")
    for cls in STATES.values():
        for event, target in cls.transitions.items():
            lines.append(f"    {cls.name} --> {target}: {event}")
        if not cls.transitions:
            lines.append(f"    {cls.name} --> [*]")
    lines.append("```")
    return "\n".join(lines)


def render(document: str) -> str:
    """`document` with the block between the markers replaced by the current diagram."""
    head, found, rest = document.partition(BEGIN)
    _, found_end, tail = rest.partition(END)
    if not found or not found_end:
        raise ValueError(f"{DOC}: the markers {BEGIN!r} and {END!r} are missing")
    return f"{head}{BEGIN}\n{mermaid()}\n{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="rewrite docs/subscriptions.md")
    parser.add_argument("--check", action="store_true", help="exit 1 if it is not current")
    args = parser.parse_args(argv)
    current = DOC.read_text(encoding="utf-8")
    wanted = render(current)
    if args.write:
        DOC.write_text(wanted, encoding="utf-8")
    elif args.check:
        if wanted != current:
            print(f"{DOC} is not current: python -m subscriptions.diagram --write")
            return 1
    else:
        print(mermaid())
    return 0


if __name__ == "__main__":
    sys.exit(main())
