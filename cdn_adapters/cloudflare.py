"""Cloudflare: URLs signed for the WAF's `is_timed_hmac_valid_v0()`, purges through the SDK.

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
import contextlib
import email.utils
import hashlib
import hmac
import logging
import re
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Sequence
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

import cloudflare
import stamina
from cloudflare import AsyncCloudflare

from cdn_adapters.base import CdnError, CdnUnavailable, PurgeResult, PurgeState, check_path

if TYPE_CHECKING:
    from cdn_adapters.base import CdnAdapter
    from streamcore.settings import CloudflareCdn

logger = logging.getLogger(__name__)

DEFAULT_API_BASE_URL = "https://api.cloudflare.com/client/v4"
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
# Cloudflare takes at most 30 prefixes per purge request (purge by prefix, "Limitations").
MAX_PREFIXES_PER_REQUEST = 30
MAX_RATE_LIMIT_RETRIES = 4
RETRY_AFTER_CAP_S = 60.0
_REMEMBERED_PURGES = 256
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


# --- The adapter ------------------------------------------------------------------------------


class RateLimited(CdnUnavailable):
    """Cloudflare answered 429; `retry_after_s` is its Retry-After, when it sent one."""


class CloudflareAdapter:
    """Build with `from_settings`. See docs/cdn.md for the rule and the zone setup."""

    def __init__(
        self,
        *,
        name: str,
        base_url: str,
        zone_id: str,
        api_token: str,
        hmac_secret: bytes,
        token_param: str = DEFAULT_QUERY_PARAM,
        api_base_url: str = DEFAULT_API_BASE_URL,
        purge_batch_size: int = 30,
        rule_ttl_s: int = DEFAULT_RULE_TTL_S,
        scope_lengths: Sequence[int] = SCOPE_LENGTHS,
        max_rate_limit_retries: int = MAX_RATE_LIMIT_RETRIES,
        retry_after_cap_s: float = RETRY_AFTER_CAP_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not 1 <= purge_batch_size <= 100:
            raise ValueError(f"purge_batch_size must be 1 to 100: {purge_batch_size}")
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path.strip("/"):
            # The rule reads http.request.uri.path: our paths must be the whole path.
            raise ValueError(f"base_url must be scheme://host[:port] and no path: {base_url!r}")
        self.name = name
        self._base_url = base_url.rstrip("/")
        self._host_prefix = self._base_url.split("://", 1)[-1]
        self._zone_id = zone_id
        self._api_token = api_token
        self._secret = hmac_secret
        self._token_param = token_param
        self._api_base_url = api_base_url
        self._batch = purge_batch_size
        self._rule_ttl_s = rule_ttl_s
        self._scope_lengths = tuple(scope_lengths)
        self._max_retries = max_rate_limit_retries
        self._retry_after_cap_s = retry_after_cap_s
        self._clock = clock
        self._results: OrderedDict[str, PurgeResult] = OrderedDict()

    @classmethod
    def from_settings(
        cls,
        cfg: CloudflareCdn,
        *,
        rule_ttl_s: int = DEFAULT_RULE_TTL_S,
        clock: Callable[[], float] = time.time,
    ) -> CloudflareAdapter:
        return cls(
            name=cfg.name,
            base_url=cfg.base_url,
            zone_id=cfg.zone_id,
            api_token=cfg.api_token.get_secret_value(),
            hmac_secret=cfg.hmac_secret.get_secret_value().encode(),
            token_param=cfg.token_param,
            api_base_url=cfg.api_base_url or DEFAULT_API_BASE_URL,
            purge_batch_size=cfg.purge_batch_size,
            rule_ttl_s=rule_ttl_s,
            clock=clock,
        )

    def asset_url(self, path: str) -> str:
        check_path(path)
        return f"{self._base_url}{path}"

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

    async def purge(self, paths: Sequence[str], *, reference: str) -> PurgeResult:
        """Prefix purges for folders, URL purges for files, each cut to Cloudflare's limits."""
        tag = _digest(reference)
        folders, files = _targets(paths)
        requests = [
            ("prefixes", [self._host_prefix + folder for folder in chunk])
            for chunk in _chunked(folders, min(self._batch, MAX_PREFIXES_PER_REQUEST))
        ] + [
            ("files", [self._base_url + file for file in chunk])
            for chunk in _chunked(files, self._batch)
        ]
        ids: list[str] = []
        async with self._client() as client:
            for kind, items in requests:
                ids.append(await self._send(client, kind, items))
        unique = tuple(dict.fromkeys(id_ for id_ in ids if id_))
        purge_id = f"{self.name}:{self._zone_id}:{tag}:{','.join(unique)}"
        result = PurgeResult(
            cdn=self.name,
            purge_id=purge_id,
            state=PurgeState.COMPLETED,
            paths=(*folders, *files),
            provider_ids=unique,
            detail=f"{len(requests)} purge request(s) accepted",
        )
        logger.info("Cloudflare purge %s: %s", reference, result.detail)
        self._remember(result)
        return result

    async def purge_status(self, purge_id: str) -> PurgeResult:
        """Cloudflare applies a purge when it accepts it: any id this adapter made is complete."""
        name, zone_id, _, ids = [*purge_id.split(":", 3), "", "", ""][:4]
        if name != self.name or zone_id != self._zone_id:
            raise CdnError(
                f"not a purge id of CDN {self.name!r} (zone {self._zone_id}): {purge_id!r}"
            )
        known = self._results.get(purge_id)
        if known is not None:
            return known
        return PurgeResult(
            cdn=self.name,
            purge_id=purge_id,
            state=PurgeState.COMPLETED,
            paths=(),
            provider_ids=tuple(id_ for id_ in ids.split(",") if id_),
            detail="applied when Cloudflare accepted it (paths are kept by the purging process)",
        )

    # -- internals --

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

    @contextlib.asynccontextmanager
    async def _client(self) -> AsyncIterator[AsyncCloudflare]:
        # The SDK's own retries are off: 429s are retried below, after Retry-After, so that
        # the waits are ours, bounded and testable.
        client = AsyncCloudflare(
            api_token=self._api_token, base_url=self._api_base_url, max_retries=0, timeout=30.0
        )
        # The SDK falls back to CLOUDFLARE_API_KEY / CLOUDFLARE_EMAIL from the environment and
        # would send those instead of the token: only the configured token is ever used.
        client.api_key = client.api_email = client.user_service_key = None
        async with client:
            yield client

    async def _send(self, client: AsyncCloudflare, kind: str, items: list[str]) -> str:
        async for attempt in stamina.retry_context(
            on=self._retry_wait,
            attempts=self._max_retries + 1,
            timeout=None,
            wait_initial=1.0,
            wait_max=self._retry_after_cap_s,
            wait_jitter=1.0,
        ):
            with attempt:
                return await self._post(client, kind, items)
        raise AssertionError("unreachable: stamina re-raises the last error")

    def _retry_wait(self, exc: Exception) -> bool | float:
        """Retry only 429s: after Retry-After when given (and not too long), else back off."""
        if not isinstance(exc, RateLimited):
            return False
        if exc.retry_after_s is None:
            return True
        return exc.retry_after_s if exc.retry_after_s <= self._retry_after_cap_s else False

    async def _post(self, client: AsyncCloudflare, kind: str, items: list[str]) -> str:
        what = f"purge of {len(items)} {kind}"
        try:
            if kind == "prefixes":
                response = await client.cache.purge(zone_id=self._zone_id, prefixes=items)
            else:
                response = await client.cache.purge(zone_id=self._zone_id, files=items)
        except cloudflare.APIError as exc:
            raise self._translate(exc, what) from exc
        return response.id if response is not None else ""

    def _translate(self, exc: cloudflare.APIError, what: str) -> CdnError:
        if isinstance(exc, cloudflare.APIConnectionError):
            return CdnUnavailable(f"Cloudflare API unreachable ({what}): {exc}")
        if not isinstance(exc, cloudflare.APIStatusError):
            return CdnError(f"unexpected answer from the Cloudflare API ({what}): {exc}")
        status, detail = exc.status_code, _api_errors(exc.body) or exc.message
        if status == 429:
            retry_after = _retry_after(exc.response.headers.get("retry-after"), now=self._clock())
            return RateLimited(
                f"Cloudflare rate-limited the {what}: {detail}", retry_after_s=retry_after
            )
        if status >= 500:
            return CdnUnavailable(f"Cloudflare failed the {what} (HTTP {status}): {detail}")
        if status in (401, 403):
            return CdnError(
                f"Cloudflare refused the {what} (HTTP {status}): the API token is invalid or "
                f"lacks the Zone > Cache Purge permission on zone {self._zone_id}. {detail}"
            )
        return CdnError(f"Cloudflare rejected the {what} (HTTP {status}): {detail}")

    def _remember(self, result: PurgeResult) -> None:
        self._results[result.purge_id] = result
        while len(self._results) > _REMEMBERED_PURGES:
            self._results.popitem(last=False)


def _targets(paths: Sequence[str]) -> tuple[list[str], list[str]]:
    """Folders and files to purge, sorted, without anything a purged folder already covers."""
    for path in paths:
        check_path(path)
    folders = {path for path in paths if path.endswith("/")}
    folders = {f for f in folders if not any(f != o and f.startswith(o) for o in folders)}
    files = {p for p in paths if not p.endswith("/") and not any(map(p.startswith, folders))}
    return sorted(folders), sorted(files)


def _chunked(items: list[str], size: int) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _digest(reference: str) -> str:
    if not reference:
        raise ValueError("a purge needs a non-empty reference")
    return hashlib.sha256(reference.encode()).hexdigest()[:12]


def _api_errors(body: object) -> str:
    errors = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(errors, list):
        return ""
    return "; ".join(
        f"{error.get('code')}: {error.get('message')}"
        for error in errors
        if isinstance(error, dict)
    )


def _retry_after(value: str | None, *, now: float) -> float | None:
    """Retry-After in seconds: either delta-seconds or an HTTP date (RFC 9110, 10.2.3)."""
    if not value:
        return None
    with contextlib.suppress(ValueError):
        return max(0.0, float(value))
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now)


if TYPE_CHECKING:

    def _implements_the_protocol(adapter: CloudflareAdapter) -> CdnAdapter:
        return adapter
