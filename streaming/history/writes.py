"""Every write of watch history (schema ``streaming``): reports into ``watch_progress`` (the
position to resume an asset at) and ``watch_history`` (a profile's row per title), and
Continue Watching's removals.

Both upserts are idempotent and never go back in time: a report changes a row only when its
client timestamp is newer than the row's, so a retried batch, a flusher that took over another's
reports, and two devices racing on one title all end with the newest report's position.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

import asyncpg

from streaming.history.report import Report, newest
from streaming.writes import UPSERT_PROFILE, UPSERT_VIEWER

# One statement for a whole batch; `old` is read in the statement's snapshot, so what each row
# was before (its completion) comes back beside what it is now. Rows not written (the report
# was not newer) are not returned.
_HISTORY = """
WITH input AS (
    SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::float8[],
                         $6::float8[], $7::float8[], $8::float8[])
        AS i(profile_id, title_id, series_id, asset_id, position_s, duration_s, completion, at)
), old AS (
    SELECT h.profile_id, h.title_id, h.completion
    FROM watch_history h JOIN input USING (profile_id, title_id)
), written AS (
    INSERT INTO watch_history AS h (profile_id, title_id, series_id, asset_id, position_s,
                                    duration_s, completion, first_watched_at, last_watched_at,
                                    times_completed)
    SELECT profile_id, title_id, series_id, asset_id, position_s, duration_s, completion,
           to_timestamp(at), to_timestamp(at), (completion > $9)::int
    FROM input
    ON CONFLICT (profile_id, title_id) DO UPDATE SET
        series_id = coalesce(EXCLUDED.series_id, h.series_id),
        asset_id = coalesce(EXCLUDED.asset_id, h.asset_id),
        position_s = EXCLUDED.position_s,
        duration_s = coalesce(EXCLUDED.duration_s, h.duration_s),
        completion = EXCLUDED.completion,
        first_watched_at = least(h.first_watched_at, EXCLUDED.first_watched_at),
        last_watched_at = EXCLUDED.last_watched_at,
        -- Finished again: it crossed the line from below (a re-watch that started over).
        times_completed = h.times_completed
            + (EXCLUDED.completion > $9 AND h.completion <= $9)::int
    WHERE h.last_watched_at < EXCLUDED.last_watched_at
    RETURNING h.profile_id, h.title_id, h.series_id, h.completion, h.last_watched_at
)
SELECT w.profile_id, w.title_id, w.series_id, w.completion,
       extract(epoch FROM w.last_watched_at)::float8 AS at,
       coalesce(o.completion, 0) AS before
FROM written w LEFT JOIN old o USING (profile_id, title_id)
"""


@dataclass(frozen=True, slots=True)
class Written:
    """A history row a batch changed: what it was about, and its completion before and after."""

    profile_id: UUID
    title_id: UUID
    series_id: UUID | None
    before: float
    completion: float
    at: float

    @property
    def item(self) -> UUID:
        """What recommendations count: a film, or an episode's series."""
        return self.series_id or self.title_id

    def finished(self, threshold: float) -> bool:
        """Whether this write finished the title (crossed `threshold` from below)."""
        return self.completion > threshold >= self.before


async def persist(
    pool: asyncpg.Pool, reports: list[Report], finished_above: float
) -> list[Written]:
    """Write a batch of reports in one transaction: each asset's position, and each profile's
    history row; what changed in the history comes back (the rest was not newer)."""
    latest = newest(reports)
    profiles = [r for r in latest if r.asset_id is not None and r.profile_id is not None]
    viewers = [r for r in latest if r.asset_id is not None and r.profile_id is None]
    rounds = _rounds([r for r in reports if r.historic])
    async with pool.acquire() as conn, conn.transaction():
        if profiles:
            await conn.executemany(
                UPSERT_PROFILE,
                [(r.profile_id, r.account_id, r.asset_id, r.position_s, r.duration_s,
                  r.session_id, r.at) for r in profiles],
            )  # fmt: skip
        if viewers:
            await conn.executemany(
                UPSERT_VIEWER,
                [(r.viewer_id, r.asset_id, r.position_s, r.duration_s, r.session_id, r.at)
                 for r in viewers],
            )  # fmt: skip
        rows = []
        for historic in rounds:
            rows += await conn.fetch(
                _HISTORY,
                [r.profile_id for r in historic], [r.title_id for r in historic],
                [r.series_id for r in historic], [r.asset_id for r in historic],
                [r.position_s for r in historic], [r.duration_s for r in historic],
                [r.ratio for r in historic], [r.at for r in historic], finished_above,
            )  # fmt: skip
    return [
        Written(row["profile_id"], row["title_id"], row["series_id"], float(row["before"]),
                float(row["completion"]), float(row["at"]))
        for row in rows
    ]  # fmt: skip


def _rounds(reports: list[Report]) -> list[list[Report]]:
    """The reports in time order, as statements that touch each row at most once: the n-th
    report of each row goes in the n-th. A batch holds a row's every report (a re-watch that
    dipped below the line and finished again counts twice), mostly in one statement."""
    rounds: list[list[Report]] = []
    seen: dict[tuple[UUID | None, ...], int] = {}
    for report in sorted(reports, key=lambda r: (r.at, r.position_s)):
        key = (report.profile_id, report.title_id)
        n = seen.get(key, 0)
        seen[key] = n + 1
        if n == len(rounds):
            rounds.append([])
        rounds[n].append(report)
    return rounds


async def hide(pool: asyncpg.Pool, profile_id: UUID, item: UUID) -> int:
    """Remove a title (or a series: every one of its episodes) from the profile's Continue
    Watching, until it is watched again; how many rows it hid."""
    status = await pool.execute(
        """
        UPDATE watch_history SET hidden_at = greatest(now(), last_watched_at)
        WHERE profile_id = $1 AND (title_id = $2 OR series_id = $2)
        """,
        profile_id, item,
    )  # fmt: skip
    return int(status.split()[-1])
