"""The stack's own services at their default budgets, through the real gateway.

The stack exempts loopback (configs/test.yaml), where the suite itself calls from; these
requests name an outside client in X-Forwarded-For, which the services believe because the
gateway (a trusted hop: loopback here) forwards it.
"""

from __future__ import annotations

import re

import httpx
import pytest

from streamcore.settings import Settings
from tests.integration.ratelimit.limits import client_v6, forwarded

pytestmark = pytest.mark.stack


def test_anonymous_reads_are_limited_per_client_at_the_default_budget(stack: Settings) -> None:
    with httpx.Client(base_url=stack.gateway.entry_url, timeout=30) as http:
        caller = forwarded(client_v6())
        answers = [http.get("/v1/titles", headers=caller) for _ in range(101)]
        assert [a.status_code for a in answers[:100]] == [200] * 100
        assert answers[0].headers["RateLimit-Policy"] == '"read";q=100;w=60'
        assert re.fullmatch(r'"read";r=99;t=\d+', answers[0].headers["RateLimit"])
        refused = answers[100]
        assert refused.status_code == 429
        assert refused.json()["error"]["code"] == "rate_limited"
        assert int(refused.headers["Retry-After"]) >= 1
        # Another client, and the suite itself (loopback, exempt), are not affected.
        assert http.get("/v1/titles", headers=forwarded(client_v6())).status_code == 200
        own = http.get("/v1/titles")
        assert own.status_code == 200 and "RateLimit" not in own.headers


def test_a_spoofed_forwarded_for_from_an_untrusted_peer_changes_nothing(stack: Settings) -> None:
    # Straight to a catalog instance from 127.0.0.2, which is no trusted proxy: the service
    # takes the socket's address (exempt loopback here), never the claimed client's, whose
    # budget of 100 would otherwise run out.
    transport = httpx.HTTPTransport(local_address="127.0.0.2")
    with httpx.Client(base_url=stack.catalog_api.url, transport=transport, timeout=30) as http:
        claimed = forwarded(client_v6())
        answers = [http.get("/v1/titles", headers=claimed) for _ in range(110)]
        assert {a.status_code for a in answers} == {200}
        assert all("RateLimit" not in a.headers for a in answers)
