"""The QoE ratios, defined once: rebuffering, start failure and playback failure percentages.

The alert rules (analytics/alerts/) and the read API compute them from the same sums and
counts of `analytics.qoe_minutes`, so that an alert and the dashboard never disagree. A ratio
over nothing (no views, no startups, nothing played) is None: "no data", never 0 % nor a
breach.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping


def _percentage(part: float, whole: float) -> float | None:
    return part / whole * 100 if whole > 0 else None


def rebuffer_percentage(played_ms: float, rebuffer_ms: float) -> float | None:
    """Share of watch time spent rebuffering: rebuffer / (played + rebuffer) x 100."""
    return _percentage(rebuffer_ms, played_ms + rebuffer_ms)


def start_failure_percentage(startup_failures: float, views: float) -> float | None:
    """Plays that failed to start, per view (a view: a session that sent `start`)."""
    return _percentage(startup_failures, views)


def playback_failure_percentage(playback_failures: float, views: float) -> float | None:
    """Plays that failed after starting (a fatal error after the first frame), per view, as
    Mux's playback failure percentage counts them (docs/analytics.md, QoE)."""
    return _percentage(playback_failures, views)


_Row = Mapping[str, float]

# metric name -> its value in one minute's row (or the sums of several minutes' rows).
QOE_METRICS: dict[str, Callable[[_Row], float | None]] = {
    "concurrent_viewers": lambda row: float(row["concurrent"]),
    "rebuffer_percentage": lambda row: rebuffer_percentage(row["played_ms"], row["rebuffer_ms"]),
    "start_failure_percentage": lambda row: start_failure_percentage(
        row["startup_failures"], row["views"]
    ),
    "playback_failure_percentage": lambda row: playback_failure_percentage(
        row["playback_failures"], row["views"]
    ),
}


def qoe_value(metric: str, row: _Row | None) -> float | None:
    """`metric` of one qoe_minutes row; a minute without a row had no viewers: 0 concurrent
    viewers and no ratio. KeyError for a metric that is not a QoE one."""
    compute = QOE_METRICS[metric]
    if row is None:
        return 0.0 if metric == "concurrent_viewers" else None
    return compute(row)


# The qoe_minutes columns the ratios above read.
QOE_COLUMNS = (
    "views", "concurrent", "startups", "startup_failures", "playback_failures",
    "played_ms", "rebuffer_ms",
)  # fmt: skip
