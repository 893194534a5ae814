"""Every Redis key the cache uses, built here and nowhere else.

A cache key (what callers pass) is a short string such as ``title:8c1e...`` or, for a query,
``titles:list:<hash of its parameters>`` (see :func:`query_key`). In Redis it becomes:

- ``cache:e:<key>``: the entry, a hash holding the value's JSON and its envelope (when it was
  made, until when it is fresh, which generations it was built under); it lives for its
  jittered TTL plus ``cache.stale_ttl_s``, the last part only as a last-known fallback;
- ``cache:lock:<key>``: the rebuild lock, held by the one process reloading the entry;
- ``cache:gen:<namespace>``: a namespace's current generation, an opaque random token that
  changes on every write to what the namespace covers.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

PREFIX = "cache"

# A generation key may expire (it is then re-created with a new token, which only turns the
# namespace's entries into misses); the TTL only keeps per-item namespaces from piling up.
GENERATION_TTL_S = 7 * 24 * 3600.0


def entry(key: str) -> str:
    return f"{PREFIX}:e:{key}"


def lock(key: str) -> str:
    return f"{PREFIX}:lock:{key}"


def generation(namespace: str) -> str:
    return f"{PREFIX}:gen:{namespace}"


def query_key(prefix: str, params: Mapping[str, Any]) -> str:
    """A key for a query's result: the prefix, then a hash of the parameters in canonical form.

    Parameters that mean the same query give the same key whatever their order; ``None`` values
    are dropped, so that an absent filter and an explicit null are one entry.
    """
    canonical = json.dumps(
        {name: value for name, value in params.items() if value is not None},
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    digest = hashlib.sha256(canonical.encode()).hexdigest()[:32]
    return f"{prefix}:{digest}"
