"""The recommendations' Redis keys: named here only."""

from __future__ import annotations

from uuid import UUID

# Decayed popularity, as forward-decayed sums (streaming/recommendations/trending.py): the
# sorted set of titles, and the landmark time its scores are relative to.
TRENDING = "recs:trending"
TRENDING_LANDMARK = "recs:trending:landmark"
# The batch job's output: the build id, and each kind's neighbour lists (a hash per kind:
# title id -> JSON [[neighbour, similarity], ...]).
BUILD = "recs:build"


def neighbours(kind: str) -> str:
    return f"recs:neighbours:{kind}"


def profile_version(profile_id: UUID) -> str:
    """Bumped when the profile finishes something: its cached rows are then stale."""
    return f"recs:profile:{profile_id}:v"


def row(profile_id: UUID, name: str, variant: str) -> str:
    return f"recs:profile:{profile_id}:row:{name}:{variant}"
