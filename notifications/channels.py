"""Which channels a socket gets: decided here alone, from the principal its ticket was for.

A profile's watch progress and recommendations, every signed-in socket's broadcast of a batch
rebuild of the recommendations, its account's subscription and upload jobs, and, for an admin
alone, the alerts and the jobs of assets nobody owns. A service account (no account, no
profile) gets only what its role gives.
"""

from __future__ import annotations

from streamcore import notify
from streamcore.auth.principal import Principal


def channels_for(caller: Principal) -> list[str]:
    """The channels of `caller`'s socket, in a stable order."""
    found: list[str] = []
    if caller.profile_id is not None:
        found += [notify.progress(caller.profile_id), notify.recommendations(caller.profile_id)]
    if caller.is_person:
        found.append(notify.recommendations())
    if caller.account_id is not None:
        found += [notify.subscription(caller.account_id), notify.jobs(caller.account_id)]
    if caller.is_admin:
        found += [notify.ALERTS, notify.jobs()]
    return found
