"""What the asset endpoints read beyond the asset's own row (streamcore/assets/repository.py):
the certification of an asset, from the titles that link it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from uuid import UUID

import asyncpg

from catalog_api.certifications import strictest
from streamcore.settings import AuthSettings

# Each linked title's certification as maturity filtering judges it (an episode without one
# has its series'; catalog_api/titles/queries.py EFFECTIVE_CERTIFICATION).
_LINKED = """
    SELECT ta.asset_id,
           coalesce(t.certification,
                    (SELECT s.certification FROM titles s WHERE s.id = t.series_id))
               AS certification
    FROM title_assets ta JOIN titles t ON t.id = ta.title_id
    WHERE ta.asset_id = ANY($1::uuid[])
"""


async def certifications(
    conn: asyncpg.Pool | asyncpg.Connection, settings: AuthSettings, asset_ids: Sequence[UUID]
) -> dict[UUID, str | None]:
    """Each asset's certification: the strictest among its titles' (the one it takes the most
    permissive maturity level to watch); None when it has no title, or one without any,
    which counts as the strictest of all."""
    linked: dict[UUID, list[str | None]] = defaultdict(list)
    for row in await conn.fetch(_LINKED, list(asset_ids)):
        linked[row["asset_id"]].append(row["certification"])
    return {
        asset_id: strictest(settings, linked[asset_id]) if asset_id in linked else None
        for asset_id in asset_ids
    }
