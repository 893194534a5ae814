"""Hybrid recommendations (docs/recommendations.md): the pure engine, the batch job that
builds its neighbour lists, trending in Redis, and the rows served per profile.

The engine (numpy and scipy.sparse only, no I/O): ``engine`` (its API: neighbour lists,
decayed popularity and forward decay, ``rank``), ``model`` (its dataclasses), ``content``
(title vectors and content neighbours), ``topk`` (top k per row of a sparse product, in
chunks), ``ranking`` (one profile's hybrid), ``evaluation`` (offline evaluation's split,
trending as of a time, metrics; bench/recommendations.py). The service around it: ``batch``
(the rebuild), ``neighbours`` (lists read back), ``trending`` (the Redis sorted set), ``rows``
and ``handlers`` (the rows served), ``keys`` (their Redis keys).
"""
