"""Request paths to storage keys: URL paths mirror keys under /assets/ and /titles/.

/assets/{id}/v{n}/...     an asset's published files (streamcore/assets/keys.py)
/titles/{id}/{sha12}/...  a title's poster and thumbnail (streamcore/assets/keys.py)
"""

from __future__ import annotations

from streamcore.web.service import NotFound

_PUBLIC_ROOTS = ("/assets/", "/titles/")


def public_path(path: str) -> str:
    """A checked path (see streamcore.web.paths) if it is under a public root; 404 otherwise."""
    if not path.startswith(_PUBLIC_ROOTS):
        raise NotFound("no such file")
    return path


def storage_key(path: str) -> str:
    """/assets/{id}/v{n}/x -> assets/{id}/v{n}/x, /titles/{id}/{sha}/x -> titles/{id}/{sha}/x."""
    return path.removeprefix("/")
