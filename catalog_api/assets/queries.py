"""What the asset endpoints read beyond the asset's own row (streamcore/assets/repository.py):
an asset's labels, from the titles that link it: its certification, its access level, and the
title it is the main asset of (what watch history counts a viewing of)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg

from catalog_api.certifications import strictest
from streamcore.entitlements import Access
from streamcore.settings import AuthSettings

# Each linked title's certification and access as filtering judges them (an episode without
# a certification has its series', one of a premium series is premium; see
# catalog_api/titles/queries.py EFFECTIVE_CERTIFICATION and EFFECTIVE_ACCESS).
_LINKED = """
    SELECT ta.asset_id, ta.role, t.id AS title_id, t.kind, t.series_id, t.runtime_min,
           coalesce(t.certification,
                    (SELECT s.certification FROM titles s WHERE s.id = t.series_id))
               AS certification,
           t.access = 'premium' OR coalesce(
               (SELECT s.access FROM titles s WHERE s.id = t.series_id) = 'premium', false)
               AS premium
    FROM title_assets ta JOIN titles t ON t.id = ta.title_id
    WHERE ta.asset_id = ANY($1::uuid[])
"""


@dataclass(frozen=True)
class Labels:
    """An asset's certification (None: none, the strictest) and who may play it."""

    certification: str | None = None
    access: Access = Access.FREE
    # The title this is the main asset of, if any: {id, kind, series_id, runtime_min}.
    main_title: dict[str, Any] | None = None


async def labels(
    conn: asyncpg.Pool | asyncpg.Connection, settings: AuthSettings, asset_ids: Sequence[UUID]
) -> dict[UUID, Labels]:
    """Each asset's labels. Its certification is the strictest among its titles' (the one it
    takes the most permissive maturity level to watch); None when it has no title, or one
    without any, which counts as the strictest of all. It is premium when any of its titles
    is (a premium film's trailer, linked to it alone, is premium too), free without titles."""
    certifications: dict[UUID, list[str | None]] = defaultdict(list)
    premium: set[UUID] = set()
    main: dict[UUID, dict[str, Any]] = {}
    for row in await conn.fetch(_LINKED, list(asset_ids)):
        certifications[row["asset_id"]].append(row["certification"])
        if row["role"] == "main":
            series = row["series_id"]
            main[row["asset_id"]] = {
                "id": str(row["title_id"]), "kind": row["kind"],
                "series_id": str(series) if series else None, "runtime_min": row["runtime_min"],
            }  # fmt: skip
        if row["premium"]:
            premium.add(row["asset_id"])
    return {
        asset_id: Labels(
            certification=strictest(settings, certifications[asset_id])
            if asset_id in certifications
            else None,
            access=Access.PREMIUM if asset_id in premium else Access.FREE,
            main_title=main.get(asset_id),
        )
        for asset_id in asset_ids
    }
