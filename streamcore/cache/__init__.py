"""The catalog's cache: an in-process LRU in front of Redis in front of the database.

See docs/cache.md for the tiers, keys, TTLs, invalidation and its bounds, the circuit breaker,
stale serving and the metrics.
"""

from streamcore.cache.breaker import BreakerState, CircuitBreaker
from streamcore.cache.keys import query_key
from streamcore.cache.lru import LocalLRU
from streamcore.cache.metrics import CacheMetrics
from streamcore.cache.result import CacheResult, Loader, Tier
from streamcore.cache.tiered import Cache

__all__ = [
    "BreakerState",
    "Cache",
    "CacheMetrics",
    "CacheResult",
    "CircuitBreaker",
    "Loader",
    "LocalLRU",
    "Tier",
    "query_key",
]
