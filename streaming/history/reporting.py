"""Reports made from what players and sessions say (streaming/history/report.py)."""

from __future__ import annotations

import time
from uuid import UUID

from streaming.catalog_client import CatalogAsset
from streaming.history.report import Report
from streaming.models import ProgressReport
from streaming.viewer import Viewer


def client_time(at_ms: int | None, max_skew_s: float, now: float | None = None) -> float:
    """The client's timestamp in seconds, never later than ours by more than `max_skew_s`
    (a clock far ahead would otherwise win every race until it is caught up with)."""
    now = time.time() if now is None else now
    return now if at_ms is None else min(at_ms / 1000, now + max_skew_s)


def _title_of(asset: CatalogAsset) -> tuple[UUID | None, UUID | None, float | None]:
    title = asset.main_title
    if title is None:
        return None, None, None
    runtime = title.runtime_min * 60.0 if title.runtime_min else None
    return title.id, title.series_id, runtime


def of_player(
    viewer: Viewer, asset: CatalogAsset, body: ProgressReport, max_skew_s: float
) -> Report:
    title, series, runtime = _title_of(asset)
    return Report(
        position_s=body.position_s, at=client_time(body.at, max_skew_s),
        profile_id=viewer.profile_id, account_id=viewer.account_id,
        viewer_id=None if viewer.signed_in else viewer.viewer_id, asset_id=asset.id,
        title_id=title, series_id=series, duration_s=body.duration_s or runtime,
        session_id=body.session_id,
    )  # fmt: skip


def of_session_end(
    viewer: Viewer, asset: CatalogAsset, position_s: float, at: float, session_id: str
) -> Report:
    """A session's last known position (its last heartbeat's), as of that heartbeat."""
    title, series, runtime = _title_of(asset)
    return Report(
        position_s=position_s, at=at, profile_id=viewer.profile_id,
        account_id=viewer.account_id, asset_id=asset.id, title_id=title, series_id=series,
        duration_s=runtime, session_id=session_id,
    )  # fmt: skip
