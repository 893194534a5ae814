"""Request paths for published files, checked before anything touches storage or a cache."""

from __future__ import annotations

from streamcore.signing import is_canonical
from streamcore.web.service import BadRequest


class BadPath(BadRequest):
    code = "bad_path"


def canonical_request_path(raw_path: str, path: str) -> str:
    """The decoded path if it is canonical; BadPath (400) otherwise.

    `raw_path` is what the client sent: any percent-escape is refused, since no key we publish
    needs one and escapes are how `..`, separators and NUL bytes get smuggled past checks.
    """
    if "%" in raw_path or "\\" in raw_path or "\x00" in raw_path:
        raise BadPath("the path has escaped or forbidden characters")
    if any(segment in (".", "..") for segment in raw_path.split("/")):
        raise BadPath("the path has '.' or '..' segments")
    if not is_canonical(path):
        raise BadPath("the path is not canonical (empty segments or odd characters)")
    return path
