"""The one place an alert transition is published to live notifications (the notifications
service's channels, through the kernel's `streamcore.notify.publish`).

The publisher is handed in (`streamcore.notify.Publish`), so that this module does not decide
how messages travel: the callers pass ``notify.Notifier.of(settings, redis).publish``.
A failed publish is logged and dropped: the webhook and the alerts table are the records,
the live notice is a courtesy.
"""

from __future__ import annotations

import logging

from analytics.alerts.models import Transition
from streamcore import notify

log = logging.getLogger(__name__)

CHANNEL = notify.ALERTS
KIND = "alert"


async def announce(publish: notify.Publish | None, transition: Transition) -> None:
    """Publish `transition` as an `alert` notice on the admins' channel; no publisher: none."""
    if publish is None:
        return
    try:
        await publish(CHANNEL, KIND, transition.to_dict())
    except Exception:  # a notice is best-effort: never let it stop an evaluation
        log.exception("alert %s %s: live notice not published", transition.rule, transition.status)
