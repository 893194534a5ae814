"""The catalog cache's namespaces: what the API caches depends on them, and whoever changes
what they cover (the API's title writes, the workers' asset changes) bumps them.

A title's document depends on ``title:<id>`` and on ``assets`` (it shows its assets' states
and posters); a list page depends on ``titles`` (any write may move a title in or out of any
page) and on ``assets`` (a title without a poster of its own shows its main asset's).

Documents are cached once for every caller and filtered by maturity after the cache; list
pages are cached per maturity level (catalog_api/titles/visibility.py says why).
"""

from __future__ import annotations

from uuid import UUID

from prometheus_client import CollectorRegistry

from streamcore.cache import Cache
from streamcore.cache.redis_client import create_redis
from streamcore.settings import Settings

TITLES = "titles"
ASSETS = "assets"


def title(title_id: UUID | str) -> str:
    """A title's namespace: what its writes bump."""
    return f"title:{title_id}"


def title_document(title_id: UUID | str) -> str:
    """The cache key of a title's document. Versioned by its shape: v2 documents carry the
    certifications maturity filtering reads (a v1 entry, without them, is never read)."""
    return f"title:{title_id}:v2"


async def assets_changed(settings: Settings) -> None:
    """For a process without a cache of its own (a worker): end the freshness of every cached
    document that shows assets. Redis being down is not an error: entries then stay until
    their TTL (``cache.title_ttl_s``), the bound docs/cache.md gives."""
    client = create_redis(settings)
    cache = Cache(settings.cache, client, CollectorRegistry())
    try:
        await cache.bump_generation(ASSETS)
    finally:
        await cache.aclose()
        await client.aclose()
