"""Signed, expiring URL tokens: made and checked here, and only here.

A token is ``<payload>.<mac>``, both base64url without padding, so it can stand in a URL path:

    payload = {"k": key id, "s": scope, "e": expiry (unix s), "n": not-before, "ip": client ip,
               "o": the rendition names it opens, "g": the grant's id,
               "sid": the playback session id}
    mac     = HMAC-SHA256(keys[k], payload)

The scope is an absolute path: a folder ending in ``/`` (every path below it) or one exact
path. Checks: the key id is known (keys rotate by keeping old and new valid together), the MAC
matches in constant time, the token is inside its validity window (with a configurable clock
skew), the client IP matches when bound, and the canonical request path lies inside the scope.

A playback grant may carry ``only`` (claim ``o``, a version folder's scope only): the
renditions it opens, which the viewer's plan allows (streamcore/entitlements.py). Below its
folder it then opens the manifests, what every rendition shares (audio, posters, storyboard)
and the folders of those renditions (``video/{name}/``, streamcore/assets/keys.py), nothing
else: a guessed URL of another rendition is refused (``rendition_not_allowed``). An empty
``only`` opens no rendition; a claim that is not a list of names is a malformed token, never
read as "no limit".

A playback grant also carries the id of its stream slot (``grant_id``, claim ``g``: its watch
session, or a random id of its own), whose media requests share one rate-limit budget
(streamcore/ratelimit/budgets.py, through `grant_of`). Tokens shared on purpose (a title's
images, the same URL for an hour) carry none.

A playback grant may name its playback session (``session_id``, claim ``sid``: the stream
slot's session id, or the id an anonymous player chose for itself): the id the player's events
and its CMCD data (``sid``) carry too, so that what the origin saw joins the viewer's
playback (streamcore/delivery.py). It is covered by the MAC like every claim and opens nothing:
verification never reads it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import quote

from pydantic import SecretStr

from streamcore.assets import keys as layout

# A canonical path: absolute, segments of safe characters, no empty, dot or dot-dot segment.
_SEGMENT = r"[A-Za-z0-9_\-][A-Za-z0-9_.\-]*"
_CANONICAL = re.compile(rf"^(/{_SEGMENT})+/?$")
_NAME = re.compile(rf"^{_SEGMENT}$")


class TokenError(Exception):
    """The token does not open this path; `code` is stable, for JSON errors and metrics."""

    code = "bad_signature"


class TokenExpired(TokenError):
    code = "token_expired"


class TokenNotYetValid(TokenError):
    code = "token_not_yet_valid"


class RenditionNotAllowed(TokenError):
    """Inside the token's folder, but of a rendition its ``only`` does not open."""

    code = "rendition_not_allowed"


@dataclass(frozen=True)
class Grant:
    key_id: str
    scope: str
    expires: int
    not_before: int | None = None
    client_ip: str | None = None
    # The rendition names the grant opens; None: every file below its scope.
    only: frozenset[str] | None = None
    # One playback grant's id (a stream slot); None: a token shared by many viewers.
    grant_id: str | None = None
    # The playback session the grant was handed out for; None: not named. Opens nothing.
    session_id: str | None = None


def is_canonical(path: str) -> bool:
    """True for an absolute path with no traversal, empty segments, or odd characters."""
    return bool(_CANONICAL.match(path))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: SecretStr, payload: str) -> str:
    digest = hmac.new(key.get_secret_value().encode(), payload.encode(), hashlib.sha256).digest()
    return _b64(digest)


def sign(
    keys: Mapping[str, SecretStr],
    key_id: str,
    scope: str,
    *,
    ttl_s: int,
    now: float | None = None,
    not_before: int | None = None,
    client_ip: str | None = None,
    only: Iterable[str] | None = None,
    grant_id: str | None = None,
    session_id: str | None = None,
) -> str:
    """A token opening `scope` (a folder ending in ``/``, or one exact path) for `ttl_s`;
    with `only`, of the folder's renditions those named alone."""
    if not is_canonical(scope):
        raise ValueError(f"not a canonical absolute path: {scope!r}")
    if ttl_s <= 0:
        raise ValueError("ttl_s must be positive")
    names = None if only is None else sorted(set(only))
    if names is not None:
        if not scope.endswith("/"):
            raise ValueError("only limits a folder scope's renditions")
        if not all(_NAME.match(name) for name in names):
            raise ValueError(f"not rendition names: {names!r}")
    issued = int(now if now is not None else time.time())
    claims: dict[str, object] = {"k": key_id, "s": scope, "e": issued + ttl_s}
    if not_before is not None:
        claims["n"] = not_before
    if client_ip:
        claims["ip"] = client_ip
    if names is not None:
        claims["o"] = names
    if grant_id is not None:
        claims["g"] = grant_id
    if session_id is not None:
        if not _NAME.match(session_id):
            raise ValueError(f"not a session id: {session_id!r}")
        claims["sid"] = session_id
    payload = _b64(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode())
    return f"{payload}.{_mac(keys[key_id], payload)}"


def _decode(token: str, keys: Mapping[str, SecretStr]) -> Grant:
    payload, _, mac = token.partition(".")
    if not payload or not mac:
        raise TokenError("malformed token")
    try:
        claims = json.loads(_unb64(payload))
        key_id = claims["k"]
    except (ValueError, binascii.Error, KeyError, TypeError):
        raise TokenError("malformed token") from None
    key = keys.get(key_id) if isinstance(key_id, str) else None
    # An unknown key id still costs one MAC, so that timing does not reveal which ids exist.
    expected = _mac(key if key is not None else SecretStr("\0unknown"), payload)
    if not hmac.compare_digest(expected.encode(), mac.encode()) or key is None:
        raise TokenError("bad signature")
    try:
        return Grant(
            key_id=key_id,
            scope=str(claims["s"]),
            expires=int(claims["e"]),
            not_before=int(claims["n"]) if "n" in claims else None,
            client_ip=str(claims["ip"]) if "ip" in claims else None,
            only=_only(claims["o"]) if "o" in claims else None,
            grant_id=str(claims["g"]) if "g" in claims else None,
            session_id=str(claims["sid"]) if "sid" in claims else None,
        )
    except (KeyError, TypeError, ValueError):
        raise TokenError("malformed token") from None


def _only(claim: object) -> frozenset[str]:
    """The ``o`` claim: a list of rendition names, or a malformed token (never "no limit")."""
    if not isinstance(claim, list) or not all(
        isinstance(name, str) and _NAME.match(name) for name in claim
    ):
        raise ValueError("malformed only claim")
    return frozenset(claim)


def grant_of(token: str, keys: Mapping[str, SecretStr]) -> Grant | None:
    """The grant a token's MAC vouches for, whatever path it is used on and whenever (None:
    not a token of ours). For deciding who pays for a request; `verify` decides access."""
    try:
        return _decode(token, keys)
    except TokenError:
        return None


def verify(
    token: str,
    path: str,
    keys: Mapping[str, SecretStr],
    *,
    now: float | None = None,
    skew_s: int = 30,
    client_ip: str | None = None,
) -> Grant:
    """Return the token's grant if it opens `path` now; raise TokenError (or a subclass)."""
    grant = _decode(token, keys)
    moment = now if now is not None else time.time()
    if moment > grant.expires + skew_s:
        raise TokenExpired("the token has expired")
    if grant.not_before is not None and moment < grant.not_before - skew_s:
        raise TokenNotYetValid("the token is not valid yet")
    if grant.client_ip is not None and grant.client_ip != client_ip:
        raise TokenError("the token is bound to another client address")
    if not is_canonical(path) or not _in_scope(path, grant.scope):
        raise TokenError("the token does not cover this path")
    if grant.only is not None and not _opens(grant.only, path.removeprefix(grant.scope)):
        raise RenditionNotAllowed("the token does not open this rendition")
    return grant


def _opens(only: frozenset[str], relative: str) -> bool:
    """Whether a rendition-limited grant opens `relative` (a path below its folder)."""
    if layout.shared_by_renditions(relative):
        return True
    rendition = layout.rendition_of(relative)
    return rendition is not None and rendition in only


def _in_scope(path: str, scope: str) -> bool:
    if not is_canonical(scope):
        return False
    # A folder scope ends at a "/" boundary: /assets/a/ never opens /assets/ab/...
    return path.startswith(scope) if scope.endswith("/") else path == scope


def derived_key(keys: Mapping[str, SecretStr], key_id: str | None, purpose: str) -> bytes:
    """A credential for `purpose` derived from a signing key, so it needs no storage of its own."""
    if key_id is None or key_id not in keys:
        raise ValueError("no active signing key to derive from")
    digest = hmac.new(keys[key_id].get_secret_value().encode(), purpose.encode(), hashlib.sha256)
    return _b64(digest.digest()).encode()


def path_url(base_url: str, token: str, path: str) -> str:
    """Token in the path: relative URIs in playlists inherit it, so any player just works."""
    return f"{base_url.rstrip('/')}/t/{token}{quote(path)}"


def query_url(base_url: str, token: str, path: str, param: str) -> str:
    """Token in the query: the origin rewrites the URIs inside the manifests it serves."""
    return f"{base_url.rstrip('/')}{quote(path)}?{param}={token}"
