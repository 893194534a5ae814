"""The client's IP address: from X-Forwarded-For only when the connection comes from a trusted
proxy (the gateway, ``gateway.trusted_proxies``), otherwise the socket's own address.

HAProxy appends the address it saw to any X-Forwarded-For the client sent, so the header is
read from the right: each hop that is itself a trusted proxy is skipped, and the first one that
is not is the client. Whatever a client wrote further left is never believed.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from aiohttp import web

from streamcore.settings import Settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def networks(cidrs: tuple[str, ...]) -> tuple[Network, ...]:
    """Settings' CIDR lists, parsed once."""
    return tuple(ipaddress.ip_network(cidr, strict=False) for cidr in cidrs)


def within(address: str, among: tuple[Network, ...]) -> bool:
    """Whether `address` lies in one of the networks `among` (False for a non-address)."""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in network for network in among)


def client_ip(request: web.Request, settings: Settings) -> str | None:
    peer = request.remote
    trusted = networks(settings.gateway.trusted_proxies)
    if peer is None or not within(peer, trusted):
        return peer
    # HAProxy's `option forwardfor` adds a header line of its own rather than extending the
    # client's: every line counts, in order, or a client's line would be read as the last hop.
    lines = request.headers.getall("X-Forwarded-For", [])
    hops = [hop.strip() for line in lines for hop in line.split(",")]
    for hop in reversed([hop for hop in hops if hop]):
        if not within(hop, trusted):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer  # a malformed hop: no further left is believable
    return peer
