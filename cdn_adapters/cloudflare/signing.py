"""Cloudflare URL tokens for the WAF's `is_timed_hmac_valid_v0()`, and the rule that checks them.

Token (Cloudflare's "Configure token authentication" and "HMAC validation" pages): the last
query parameter, ``{token_param}={timestamp}-{mac}``, where ``mac`` is HMAC-SHA256 over
``message + timestamp`` in URL-safe base64 without padding (the rule's ``"s"`` flag). The
message is everything before ``?{token_param}=`` / ``&{token_param}=``: the path and any query
it already has; for a scoped token, the scope instead of the path (the rule reads the scope
with ``substring()``, so scopes have one of a few fixed lengths). The rule's ttl is a literal
in the rule, so each URL's own lifetime comes from back-dating its timestamp:
``timestamp = now + ttl_s - rule_ttl_s``.
`is_timed_hmac_valid_v0` below mirrors the rule function so tests can check what Cloudflare
would accept; `waf_rule_expression` writes the rule. See docs/cdn.md.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Callable, Sequence
from urllib.parse import unquote, urlsplit

from cdn_adapters.base import check_path

# The ttl written in the WAF rule; a URL can live at most this long. See module docstring.
DEFAULT_RULE_TTL_S = 24 * 3600
# The folder lengths the scoped rule checks with substring(path, 0, N): a whole asset
# `/assets/{uuid}/` (45), and one version of it, `/assets/{uuid}/v{n}/`, for n < 100 (48, 49).
ASSET_SCOPE_LENGTH = len("/assets/") + 36 + len("/")
SCOPE_LENGTHS = (ASSET_SCOPE_LENGTH, ASSET_SCOPE_LENGTH + 3, ASSET_SCOPE_LENGTH + 4)
PROTECTED_PREFIX = "/assets/"
DEFAULT_QUERY_PARAM = "verify"
# Stands for the secret in the rule text this module writes for documentation and checks.
KEY_PLACEHOLDER = "<hmac_secret>"
_QUERY = re.compile(r"[A-Za-z0-9._~!$&'()*+,;=:@%/?-]*")
_MESSAGE_MAC = re.compile(r"(.+)(\d{10})-(.{43,})", re.DOTALL)
_URLSAFE_B64 = re.compile(r"[A-Za-z0-9_-]+")


# --- Tokens: the signing side and a mirror of the rule function -------------------------------


def timed_hmac_token(secret: bytes, message: str, timestamp: int) -> str:
    """``{timestamp}-{mac}``, the token `is_timed_hmac_valid_v0(..., "s")` accepts."""
    if not 10**9 <= timestamp < 10**10:
        raise ValueError(f"the rule reads a 10-digit UNIX timestamp: {timestamp}")
    digest = hmac.new(secret, f"{message}{timestamp}".encode(), hashlib.sha256).digest()
    return f"{timestamp}-{base64.urlsafe_b64encode(digest).decode().rstrip('=')}"


def is_timed_hmac_valid_v0(
    key: bytes,
    message_mac: str,
    ttl: int,
    current_timestamp: int,
    length_of_separator: int = 0,
    flags: str = "",
) -> bool:
    """What Cloudflare's rule function of the same name answers, as its documentation states.

    MessageMAC is ``message + separator + timestamp(10 digits) + "-" + mac``; the MAC is
    HMAC-SHA256(key, message + timestamp); with flags ``"s"`` it is URL-safe base64 without
    padding, otherwise URL-encoded standard base64. Valid while
    ``current_timestamp < timestamp + ttl``.
    """
    match = _MESSAGE_MAC.fullmatch(message_mac)
    if match is None or len(match[1]) <= length_of_separator:
        return False
    message = match[1][: len(match[1]) - length_of_separator]
    timestamp = int(match[2])
    mac = match[3] if flags == "s" else unquote(match[3])
    if flags == "s" and not _URLSAFE_B64.fullmatch(mac):
        return False
    try:
        standard = mac.replace("-", "+").replace("_", "/") if flags == "s" else mac
        given = base64.b64decode(standard + "=" * (-len(standard) % 4), validate=True)
    except ValueError:
        return False
    expected = hmac.new(key, f"{message}{timestamp}".encode(), hashlib.sha256).digest()
    return hmac.compare_digest(expected, given) and current_timestamp < timestamp + ttl


def scope_message_mac(uri: str, scope_length: int) -> str:
    """The rule's `concat(substring(http.request.uri.path, 0, N), "?", http.request.uri.query)`."""
    path, _, query = uri.partition("?")
    return f"{path[:scope_length]}?{query}"


def waf_rule_expression(
    *,
    host: str,
    token_param: str,
    rule_ttl_s: int,
    scope_lengths: Sequence[int] = SCOPE_LENGTHS,
    key: str = KEY_PLACEHOLDER,
    protected_prefix: str = PROTECTED_PREFIX,
) -> str:
    """The custom rule (action: Block) that admits exactly the URLs `signed_url` makes."""
    separator = len(f"?{token_param}=")  # as long as `&{token_param}=`
    message_macs = ["http.request.uri"] + [
        f'concat(substring(http.request.uri.path, 0, {length}), "?", http.request.uri.query)'
        for length in scope_lengths
    ]
    checks = " or ".join(
        f'is_timed_hmac_valid_v0("{key}", {message_mac}, {rule_ttl_s}, '
        f'http.request.timestamp.sec, {separator}, "s")'
        for message_mac in message_macs
    )
    return (
        f'(http.host eq "{host}" and starts_with(http.request.uri.path, "{protected_prefix}")'
        f" and not ({checks}))"
    )


# --- Signed URLs for one zone's host ----------------------------------------------------------


class UrlSigner:
    """URLs below `base_url` (``scheme://host[:port]``) with tokens the WAF rule accepts."""

    def __init__(
        self,
        *,
        base_url: str,
        hmac_secret: bytes,
        token_param: str,
        rule_ttl_s: int,
        scope_lengths: Sequence[int],
        clock: Callable[[], float],
    ) -> None:
        self._base_url = base_url
        self._secret = hmac_secret
        self._token_param = token_param
        self._rule_ttl_s = rule_ttl_s
        self._scope_lengths = tuple(scope_lengths)
        self._clock = clock

    def signed_url(
        self, path: str, *, ttl_s: int, scope: str | None = None, client_ip: str | None = None
    ) -> str:
        """`path` (which may carry a query already) with a token, as the last parameter, that
        the rule accepts for `ttl_s`; with a scope, for every file below it with the same query.
        """
        if client_ip is not None:
            raise ValueError(
                "Cloudflare's is_timed_hmac_valid_v0() cannot bind a token to a client IP"
            )
        if not 1 <= ttl_s <= self._rule_ttl_s:
            raise ValueError(f"ttl_s must be 1 to the rule's ttl, {self._rule_ttl_s}: {ttl_s}")
        bare, query = self._split(path)
        message = path if scope is None else self._checked_scope(scope, bare) + query
        # Back-dated so that the rule's `issued + rule_ttl_s` is our `now + ttl_s`.
        issued = int(self._clock()) + ttl_s - self._rule_ttl_s
        token = timed_hmac_token(self._secret, message, issued)
        return f"{self._base_url}{path}{'&' if query else '?'}{self._token_param}={token}"

    def verify(self, url: str, *, now: int | None = None) -> bool:
        """Whether the HMAC checks of `rule_expression()` let `url` through (tests, debugging)."""
        parts = urlsplit(url)
        uri = f"{parts.path}?{parts.query}" if parts.query else parts.path
        when = int(self._clock()) if now is None else now
        separator = len(f"?{self._token_param}=")
        message_macs = [uri] + [scope_message_mac(uri, n) for n in self._scope_lengths]
        return any(
            is_timed_hmac_valid_v0(
                self._secret, message_mac, self._rule_ttl_s, when, separator, "s"
            )
            for message_mac in message_macs
        )

    def rule_expression(self, key: str = KEY_PLACEHOLDER) -> str:
        return waf_rule_expression(
            host=urlsplit(self._base_url).hostname or "",
            token_param=self._token_param,
            rule_ttl_s=self._rule_ttl_s,
            scope_lengths=self._scope_lengths,
            key=key,
        )

    def _split(self, path: str) -> tuple[str, str]:
        """The path, and its query with its '?' (or ''), checked."""
        bare, mark, query = path.partition("?")
        check_path(bare)
        names = {pair.partition("=")[0] for pair in query.split("&")}
        if not _QUERY.fullmatch(query) or self._token_param in names:
            raise ValueError(f"unusable query for a signed URL ({self._token_param}=?): {path!r}")
        return bare, mark + query

    def _checked_scope(self, scope: str, path: str) -> str:
        check_path(scope)
        if not scope.endswith("/") or not path.startswith(scope):
            raise ValueError(f"scope must be a folder (ending in '/') above {path!r}: {scope!r}")
        if len(scope) not in self._scope_lengths:
            raise ValueError(
                f"the WAF rule checks scopes of {self._scope_lengths} characters "
                f"(/assets/{{uuid}}/ and /assets/{{uuid}}/v{{n}}/); {scope!r} has {len(scope)}"
            )
        return scope
