"""Every Redis key of the rate limiter and of automatic tightening, and the address groupings
they are built from, named here and nowhere else.

- A budget's key: ``rl:{class}:{subject}``; the subject is ``a:<account id>``,
  ``s:<service account>``, ``ip:<client>`` (IPv4 whole, IPv6 by its /64: one household or
  one host's privacy addresses), ``slot:<digest of the playback token>`` or
  ``email:<digest of the sign-in address>``.
- A network range (what tightening judges): IPv4 /24, IPv6 /56.
- ``rl:ban:{range}``: a hash (factor, reason, offences, since, until) that exists while the
  range's cool-down lasts; ``rl:offences:{range}``: how often it tripped lately;
  ``rl:abuse:{range}:...``: its counters (streamcore/ratelimit/abuse.py);
  ``rl:bans``: a sorted set of banned ranges by expiry, for listing; ``rl:trips``: the latest
  trips (JSON), newest first, for ``streamcore ratelimit status``.
"""

from __future__ import annotations

import hashlib
import ipaddress

PREFIX = "rl"
BANS_INDEX = f"{PREFIX}:bans"
TRIPS_LOG = f"{PREFIX}:trips"

_CLIENT_V6_PREFIX = 64
_RANGE_V4_PREFIX = 24
_RANGE_V6_PREFIX = 56


def _address(ip: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(ip.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped  # ::ffff:a.b.c.d is the IPv4 client a.b.c.d
    return address


def client_group(ip: str) -> str:
    """The budget's holder for an address: IPv4 as is, IPv6 by its /64."""
    address = _address(ip)
    if address is None:
        return f"unknown:{ip[:64]}"
    if address.version == 4:
        return str(address)
    return str(ipaddress.ip_network(f"{address}/{_CLIENT_V6_PREFIX}", strict=False))


def network_range(ip: str) -> str | None:
    """The range an address belongs to for tightening (IPv4 /24, IPv6 /56); None: not an IP."""
    address = _address(ip)
    if address is None:
        return None
    prefix = _RANGE_V4_PREFIX if address.version == 4 else _RANGE_V6_PREFIX
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def parse_range(text: str) -> str:
    """A range as an admin typed it, canonical (ValueError when it is not one)."""
    network = ipaddress.ip_network(text.strip(), strict=False)
    return str(network)


def digest(secret: str) -> str:
    """A short, stable name for a token or an email, which never stores the thing itself."""
    return hashlib.blake2b(secret.encode(), digest_size=12).hexdigest()


def budget(class_name: str, subject: str) -> str:
    return f"{PREFIX}:{class_name}:{subject}"


def ban(range_: str) -> str:
    return f"{PREFIX}:ban:{range_}"


def offences(range_: str) -> str:
    return f"{PREFIX}:offences:{range_}"


def abuse(range_: str, what: str) -> str:
    return f"{PREFIX}:abuse:{range_}:{what}"


# The parts of a range's counters (``abuse(range, what)``): the window's counts and usual (a
# hash), the digests of the accounts that failed to sign in, this window's and the last one's
# (HyperLogLogs).
ABUSE_WINDOW = "window"
ABUSE_ACCOUNTS = "accounts"
ABUSE_PREVIOUS_ACCOUNTS = "accounts:previous"
