"""Checking a request's URL token: shared by the origin and the local edge, which both accept
tokens in the path (`/t/<token>/<path>`) and must refuse them identically."""

from __future__ import annotations

from aiohttp import web

from streamcore.settings import Settings
from streamcore.signing import Grant, TokenError, verify
from streamcore.web.paths import canonical_request_path
from streamcore.web.service import Forbidden as _Forbidden

# The grant of a request whose token verified: what delivery counting (streamcore/delivery.py)
# reads, so that only requests with a playback grant are counted.
GRANT_KEY = web.RequestKey("url_grant", Grant)


class Forbidden(_Forbidden):
    def __init__(self, error: TokenError) -> None:
        super().__init__(str(error))
        self.code = error.code


def path_token_request(request: web.Request) -> tuple[str, str]:
    """The token and the checked path of a ``/t/{token}/{tail}`` request."""
    token = request.match_info["token"]
    raw_tail = request.raw_path.split("?", 1)[0].removeprefix(f"/t/{token}")
    return token, canonical_request_path(raw_tail, "/" + request.match_info["tail"])


def authorize(request: web.Request, settings: Settings, token: str, path: str) -> Grant:
    """The token's grant for `path`, or 403 with the token error's stable code. Only the
    path is checked: the query (a player's CMCD data, say) neither opens nor closes anything."""
    try:
        grant = verify(
            token, path, settings.origin.signing_keys,
            skew_s=settings.origin.clock_skew_s, client_ip=request.remote,
        )  # fmt: skip
    except TokenError as exc:
        raise Forbidden(exc) from None
    request[GRANT_KEY] = grant
    return grant
