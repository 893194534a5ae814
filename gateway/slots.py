"""Server slots: the names and placeholder values config, runtime client and registrar share.

Each backend has `settings.gateway.slots` servers from one ``server-template``: ``s1``..
``sN``. A free slot holds the placeholder address ``0.0.0.0:1`` and is in maintenance; the
registrar assigns a registered instance to a free slot at run time (``set server ... addr``)
and puts it back to the placeholder when releasing it. Port 1 is never a service's (their
ports are 1024 and up) and 0.0.0.0 is never a registered address (streamcore.registry refuses
it), so the pair marks a slot free without any state kept outside HAProxy.
"""

from __future__ import annotations

SLOT_PREFIX = "s"
# What a slot's server line names until an instance takes it. A name, not an address: HAProxy
# applies a server-state file's address at start ("init-addr last") only to servers named by
# FQDN, and that is what keeps assigned slots across a reload. `.invalid` never resolves
# (RFC 6761), and no resolver is configured: the name is never looked up.
PLACEHOLDER_FQDN = "unassigned.invalid"
UNASSIGNED_ADDR = "0.0.0.0"  # noqa: S104 (a placeholder, never bound)
UNASSIGNED_PORT = 1
# Each slot's initial weight. The agent answers a percentage of it ("10%"), and HAProxy
# rounds the result to an integer: with weight 1, 10% would be 0 (drain); 100 keeps 1 % steps.
SLOT_WEIGHT = 100


def slot_name(index: int) -> str:
    """The name of slot `index` (from 1), as server-template names it."""
    return f"{SLOT_PREFIX}{index}"
