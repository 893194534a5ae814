"""Hybrid recommendations (docs/recommendations.md): the pure engine, the batch job that
builds its neighbour lists, trending in Redis, and the rows served per profile."""
