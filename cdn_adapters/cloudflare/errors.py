"""Cloudflare API errors, as its SDK raises them, turned into ours (CdnError, CdnUnavailable)."""

from __future__ import annotations

import contextlib
import email.utils
from collections.abc import Callable

import cloudflare

from cdn_adapters.base import CdnError, CdnUnavailable


class RateLimited(CdnUnavailable):
    """Cloudflare answered 429; `retry_after_s` is its Retry-After, when it sent one."""


def translate(
    exc: cloudflare.APIError, what: str, *, zone_id: str, clock: Callable[[], float]
) -> CdnError:
    """Our error for `exc`, raised by the `what` request on zone `zone_id`."""
    if isinstance(exc, cloudflare.APIConnectionError):
        return CdnUnavailable(f"Cloudflare API unreachable ({what}): {exc}")
    if not isinstance(exc, cloudflare.APIStatusError):
        return CdnError(f"unexpected answer from the Cloudflare API ({what}): {exc}")
    status, detail = exc.status_code, _api_errors(exc.body) or exc.message
    if status == 429:
        retry_after = _retry_after(exc.response.headers.get("retry-after"), now=clock())
        return RateLimited(
            f"Cloudflare rate-limited the {what}: {detail}", retry_after_s=retry_after
        )
    if status >= 500:
        return CdnUnavailable(f"Cloudflare failed the {what} (HTTP {status}): {detail}")
    if status in (401, 403):
        return CdnError(
            f"Cloudflare refused the {what} (HTTP {status}): the API token is invalid or "
            f"lacks the Zone > Cache Purge permission on zone {zone_id}. {detail}"
        )
    return CdnError(f"Cloudflare rejected the {what} (HTTP {status}): {detail}")


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
