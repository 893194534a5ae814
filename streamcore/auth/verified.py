"""Access tokens already verified by this process, kept until they expire.

A player sends the same access token with every request for up to ``auth.access_ttl_s``, and
checking its signature and claims (PyJWT, Ed25519) costs a couple of hundred microseconds,
more than a cached catalog read. So a token that verified is remembered, bounded in number
(least recently used out first) and never past its own expiry plus the leeway. What this gives
up: a key removed from the JWKS stops opening the tokens it signed only when they expire, at
most ``auth.access_ttl_s`` later, as with any verifier that caches the JWKS.
"""

from __future__ import annotations

import time
from collections import OrderedDict

from streamcore.auth.principal import Principal

DEFAULT_ENTRIES = 10_000


class VerifiedTokens:
    def __init__(self, leeway_s: float, max_entries: int = DEFAULT_ENTRIES) -> None:
        self._leeway_s = leeway_s
        self._max_entries = max_entries
        self._entries: OrderedDict[str, tuple[Principal, float]] = OrderedDict()

    def get(self, token: str) -> Principal | None:
        entry = self._entries.get(token)
        if entry is None:
            return None
        principal, expires_at = entry
        if time.time() > expires_at + self._leeway_s:
            del self._entries[token]
            return None
        self._entries.move_to_end(token)
        return principal

    def put(self, token: str, principal: Principal, expires_at: float) -> None:
        self._entries[token] = (principal, expires_at)
        self._entries.move_to_end(token)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)
