"""The one place an alert transition is published to live notifications (the notifications
service's channels, through the kernel's `streamcore.notify.publish`).

The publisher is handed in (`Publish`), so that this module does not decide how messages
travel: the processor's periodic table passes ``functools.partial(notify.publish, redis)``.
A failed publish is logged and dropped: the webhook and the alerts table are the records,
the live notice is a courtesy.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from analytics.alerts.models import Transition
from streamcore import notify

log = logging.getLogger(__name__)

# publish(channel, kind, data): notify.publish with its Redis client bound.
Publish = Callable[[str, str, dict[str, Any]], Awaitable[object]]

CHANNEL = notify.ALERTS
KIND = "alert"


async def announce(publish: Publish | None, transition: Transition) -> None:
    """Publish `transition` as an `alert` notice on the admins' channel; no publisher: none."""
    if publish is None:
        return
    try:
        await publish(CHANNEL, KIND, transition.to_dict())
    except Exception:  # a notice is best-effort: never let it stop an evaluation
        log.exception("alert %s %s: live notice not published", transition.rule, transition.status)
