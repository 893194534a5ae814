"""Request paths to storage keys: URL paths mirror keys under /assets/."""

from __future__ import annotations

from streamcore.paths import canonical_request_path
from streamcore.web import NotFound

_PUBLIC_ROOT = "/assets/"


def canonical_path(raw_path: str, path: str) -> str:
    """The checked path (400 for traversal or escapes); 404 outside /assets/."""
    path = canonical_request_path(raw_path, path)
    if not path.startswith(_PUBLIC_ROOT):
        raise NotFound("no such file")
    return path


def storage_key(path: str) -> str:
    """/assets/{id}/v{n}/x -> assets/{id}/v{n}/x."""
    return path.removeprefix("/")
