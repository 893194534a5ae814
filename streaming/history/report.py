"""One viewing report, as the history keeps it: who, what, where, and when (the client's clock).

A report comes from a player's progress heartbeat (PUT /v1/progress/{asset}), from the end of
a watch session (its last heartbeat's position), or from an import. Its `at` is when the
position was true, by the client's clock (clamped to ours plus `history.max_clock_skew_s`):
the newest `at` wins, so two devices and their retries end with the same row.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from uuid import UUID


@dataclass(frozen=True, slots=True)
class Report:
    position_s: float
    at: float  # unix seconds
    # A profile's (profile_id and account_id), or an anonymous viewer's (viewer_id).
    profile_id: UUID | None = None
    account_id: UUID | None = None
    viewer_id: UUID | None = None
    asset_id: UUID | None = None  # None: an imported viewing, not tied to an asset
    # The title the asset is the main video of; None: progress only (a trailer, an extra).
    title_id: UUID | None = None
    series_id: UUID | None = None
    duration_s: float | None = None
    session_id: str | None = None
    # Explicit (imports give a ratio); otherwise position over duration.
    completion: float | None = None

    @property
    def ratio(self) -> float:
        """How much of the title this report has seen, in [0, 1]."""
        if self.completion is not None:
            return min(1.0, max(0.0, self.completion))
        if self.duration_s:
            return min(1.0, max(0.0, self.position_s / self.duration_s))
        return 0.0

    @property
    def historic(self) -> bool:
        """Whether it makes a history row: a profile's viewing of a title."""
        return self.profile_id is not None and self.title_id is not None

    @property
    def key(self) -> tuple[UUID | None, UUID | None, UUID | None, UUID | None]:
        """What one row is about: reports with the same key supersede each other."""
        return (self.profile_id, self.viewer_id, self.asset_id, self.title_id)

    def encode(self) -> str:
        return json.dumps(
            {k: (str(v) if isinstance(v, UUID) else v) for k, v in asdict(self).items()}
        )

    @classmethod
    def decode(cls, raw: str | bytes) -> Report:
        fields = json.loads(raw)
        for name in ("profile_id", "account_id", "viewer_id", "asset_id", "title_id",
                     "series_id"):  # fmt: skip
            if fields.get(name) is not None:
                fields[name] = UUID(fields[name])
        return cls(**fields)


def newest(reports: list[Report]) -> list[Report]:
    """One report per key, the latest by `at`, so that one batch touches a row once."""
    latest: dict[tuple[UUID | None, ...], Report] = {}
    for report in reports:
        current = latest.get(report.key)
        if current is None or report.at > current.at:
            latest[report.key] = report
    return list(latest.values())
