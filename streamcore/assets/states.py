"""The asset lifecycle as an explicit state machine.

    uploaded ──start──▶ processing ──finish──▶ ready
      ▲ ▲                   │  ▲ │               │
      │ └────requeue────────┘  │ └──start (a retried or duplicate job re-enters)
      │   (its worker died:     fail
      │    a new job id)        ▼                │
      └──reprocess──────── failed ◀──────────────┘ (reprocess from ready, failed or uploaded)

Each event is one guarded UPDATE (repository.py): the row changes only if it is in one of the
event's source states, so concurrent or repeated tasks cannot skip or undo a step.
"""

from __future__ import annotations

import enum


class AssetStatus(enum.StrEnum):
    UPLOADED = "uploaded"
    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"


class Event(enum.StrEnum):
    START = "start"
    FINISH = "finish"
    FAIL = "fail"
    REPROCESS = "reprocess"
    REQUEUE = "requeue"


# event -> (states it may leave from, state it leads to)
TRANSITIONS: dict[Event, tuple[frozenset[AssetStatus], AssetStatus]] = {
    # FAILED is a source of START so that a dead-lettered job, re-queued, can run again.
    Event.START: (
        frozenset({AssetStatus.UPLOADED, AssetStatus.PROCESSING, AssetStatus.FAILED}),
        AssetStatus.PROCESSING,
    ),
    Event.FINISH: (frozenset({AssetStatus.PROCESSING}), AssetStatus.READY),
    Event.FAIL: (frozenset({AssetStatus.UPLOADED, AssetStatus.PROCESSING}), AssetStatus.FAILED),
    Event.REPROCESS: (
        frozenset({AssetStatus.UPLOADED, AssetStatus.READY, AssetStatus.FAILED}),
        AssetStatus.UPLOADED,
    ),
    # A job whose worker died (no heartbeat), or one an operator forces: queued again under a
    # new job id, so that the old job's late writes, if it still runs somewhere, change nothing.
    Event.REQUEUE: (frozenset({AssetStatus.PROCESSING}), AssetStatus.UPLOADED),
}


def sources(event: Event) -> list[str]:
    return sorted(TRANSITIONS[event][0])


def target(event: Event) -> AssetStatus:
    return TRANSITIONS[event][1]
