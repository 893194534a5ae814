"""Request paths to storage keys: URL paths mirror keys under /assets/."""

from __future__ import annotations

from streamcore.web import NotFound

_PUBLIC_ROOT = "/assets/"


def public_path(path: str) -> str:
    """A checked path (see streamcore.paths) if it is under /assets/; 404 otherwise."""
    if not path.startswith(_PUBLIC_ROOT):
        raise NotFound("no such file")
    return path


def storage_key(path: str) -> str:
    """/assets/{id}/v{n}/x -> assets/{id}/v{n}/x."""
    return path.removeprefix("/")
