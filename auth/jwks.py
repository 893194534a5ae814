"""``GET /.well-known/jwks.json``: the public half of every signing key (the active one and
those kept for the tokens they signed), which every other service verifies tokens with."""

from __future__ import annotations

import json

from aiohttp import web

from streamcore.auth.keys import jwks
from streamcore.settings import AuthSettings

# Verifiers cache it (auth.jwks_cache_s) and refetch on an unknown kid; shared caches may too.
CACHE_CONTROL = "public, max-age=300"


def route(settings: AuthSettings) -> web.RouteDef:
    body = json.dumps(jwks(settings.signing_keys), separators=(",", ":")).encode()

    async def serve(request: web.Request) -> web.Response:
        return web.Response(
            body=body, content_type="application/json", headers={"Cache-Control": CACHE_CONTROL}
        )

    return web.get("/.well-known/jwks.json", serve)
