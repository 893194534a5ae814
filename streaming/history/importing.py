"""Imports of viewing history from another system (POST /v1/admin/history, which
`streamcore history import` calls in batches): each viewing becomes a report at its
`watched_at`, written at once (streaming/history/reports.py). Idempotent: a viewing not
newer than the row holds changes nothing, so a file imported twice writes nothing the
second time. Titles are the catalog's (an unknown one is rejected, the rest still load)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from aiohttp import web

from streamcore.settings import Settings
from streaming.history.models import HistoryImport, ImportedViewing
from streaming.history.report import Report
from streaming.history.reports import write_now
from streaming.resources import DB_POOL_KEY, REDIS_KEY, TITLES_KEY


@dataclass
class Result:
    written: int = 0
    unchanged: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"written": self.written, "unchanged": self.unchanged, "rejected": self.rejected}


def _report(viewing: ImportedViewing, title: dict[str, Any]) -> Report:
    runtime = title.get("runtime_min")
    duration = runtime * 60.0 if runtime else None
    position = viewing.position_s
    if position is None:
        position = (viewing.completion or 0.0) * duration if duration else 0.0
    series = title.get("series_id")
    return Report(
        position_s=position, at=viewing.watched_at.timestamp(), profile_id=viewing.profile_id,
        title_id=viewing.title_id, series_id=UUID(series) if series else None,
        duration_s=duration, completion=viewing.completion,
    )  # fmt: skip


async def load(app: web.Application, settings: Settings, batch: HistoryImport) -> Result:
    result, reports = Result(), []
    for index, viewing in enumerate(batch.items):
        title = await app[TITLES_KEY].get(viewing.title_id)
        if title is None or title.get("kind") == "series":
            problem = "no such title" if title is None else "a series: name one of its episodes"
            result.rejected.append(
                {"index": index, "code": "unknown_title", "message": f"{viewing.title_id}: "
                 f"{problem}"}
            )  # fmt: skip
            continue
        reports.append(_report(viewing, title))
    if reports:
        written = await write_now(app[DB_POOL_KEY], app[REDIS_KEY], settings, reports)
        result.written = len(written)
    result.unchanged = len(reports) - result.written
    return result
