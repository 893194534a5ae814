"""Maturity filtering of titles: a profile sees only titles at or below its level.

A title's certification as judged here is its own, else (an episode) its series'; a title with
neither counts as the strictest content, which only unfiltered callers and the most
permissive level see (catalog_api/certifications.py). The caller's allowed set comes from
`caller.visible_certifications` (None: everything).

Where the filter sits relative to the cache, and why it cannot leak:

- A title's document is cached once for everyone, and filtered *after* the cache, on every
  response: a hidden title is a 404, as if absent, and a series' hidden episodes are left out.
  A per-level copy would only multiply entries (and invalidations) for a set lookup per title.
  Whatever a cache tier holds, the response is filtered from it, so a document warmed by an
  adult (or built before a certification changed) cannot reach a kids profile.
- A list page is filtered *in the SQL* and cached per level: the allowed certifications are
  part of `TitleQuery`, hence of its cache key (`TitleQuery.cache_key`). Filtering a cached
  page afterwards would return short or empty pages and break keyset cursors. The levels are
  few (``auth.maturity_levels``, plus unfiltered), so a page query has at most that many
  entries; every title write ends them all (the ``titles`` namespace), certification changes
  included.

Responses differ by caller, so they say ``Vary: Authorization`` (handlers.py): no shared
cache in front of the API may hand one caller's answer to another.
"""

from __future__ import annotations

from typing import Any

from catalog_api.caller import may_see


def _certification(document: dict[str, Any], series: dict[str, Any] | None) -> str | None:
    own: str | None = document.get("certification")
    if own is not None or series is None:
        return own
    inherited: str | None = series.get("certification")
    return inherited


def visible_document(
    document: dict[str, Any], allowed: frozenset[str] | None
) -> dict[str, Any] | None:
    """The title's document as the caller may see it; None if the title is hidden from it."""
    if allowed is None:
        return document
    if not may_see(allowed, _certification(document, document.get("series"))):
        return None
    if "episodes" not in document:
        return document
    episodes = [e for e in document["episodes"] if may_see(allowed, _certification(e, document))]
    return {**document, "episodes": episodes}
