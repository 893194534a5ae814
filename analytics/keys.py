"""Every Redis name the analytics service uses, in one place.

The collector appends each accepted event to `STREAM`; the processors read it as consumers of
`GROUP` (analytics/processor/consumer.py). Each processor renews `HEARTBEAT` while it runs,
which is what the local stack's health probe checks (devstack/health.py).
"""

from __future__ import annotations

STREAM = "analytics:events"
GROUP = "processors"
# The field of a stream entry that holds the event (JSON, analytics/models.py `StreamEvent`).
FIELD = "e"
HEARTBEAT = "analytics:processor:heartbeat"
# The heartbeat lives this long; a processor renews it every HEARTBEAT_EVERY_S.
HEARTBEAT_TTL_S = 15
HEARTBEAT_EVERY_S = 5.0
