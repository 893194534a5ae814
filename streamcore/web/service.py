"""What every aiohttp service shares: the settings key, JSON errors, and health endpoints.

Errors are translated here, at the boundary: a handler raises an ApiError (or aiohttp's own
HTTP exceptions) and the middleware answers JSON with a stable `code`; anything unexpected is
logged with its traceback and answered as a JSON 500 without one.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from streamcore.settings import Settings

SETTINGS_KEY = web.AppKey("settings", Settings)

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ApiError(Exception):
    status = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        headers: Mapping[str, str] | None = None,
        details: Sequence[Mapping[str, str]] = (),
        extra: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.headers = dict(headers or {})
        # One {"field", "message"} per field at fault (streamcore/web/validation.py).
        self.details = [dict(detail) for detail in details]
        # More of the error object, for a client to act on (e.g. the streams holding the
        # slots of a too_many_streams); never a traceback or a secret.
        self.extra = dict(extra or {})


class BadRequest(ApiError):
    pass


class InvalidRequest(BadRequest):
    """A parameter, header or body field is invalid; `details` names each one."""

    code = "invalid_request"


class Unauthorized(ApiError):
    status, code = 401, "unauthorized"


class Forbidden(ApiError):
    status, code = 403, "forbidden"


class NotFound(ApiError):
    status, code = 404, "not_found"


class Conflict(ApiError):
    status, code = 409, "conflict"


class PayloadTooLarge(ApiError):
    status, code = 413, "payload_too_large"


class UnsupportedMediaType(ApiError):
    status, code = 415, "unsupported_media_type"


class TooManyRequests(ApiError):
    status, code = 429, "too_many_requests"


class ServiceUnavailable(ApiError):
    status, code = 503, "unavailable"


def error_response(
    status: int,
    code: str,
    message: str,
    headers: Mapping[str, str] | None = None,
    details: Sequence[Mapping[str, str]] = (),
    extra: Mapping[str, object] | None = None,
) -> web.Response:
    error: dict[str, object] = {**(extra or {}), "code": code, "message": message}
    if details:
        error["details"] = [dict(detail) for detail in details]
    response = web.json_response({"error": error}, status=status, headers=headers)
    # Error answers must never be cached for long by a CDN or a browser.
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def _code_for(status: int) -> str:
    return {
        400: "bad_request",
        401: "unauthorized",
        403: "forbidden",
        404: "not_found",
        405: "method_not_allowed",
        413: "payload_too_large",
        415: "unsupported_media_type",
        416: "range_not_satisfiable",
    }.get(status, "http_error")


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as exc:
        return error_response(
            exc.status, exc.code, exc.message, exc.headers, exc.details, exc.extra
        )
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        headers = {k: v for k, v in exc.headers.items() if k.lower() in ("allow", "retry-after")}
        return error_response(exc.status, _code_for(exc.status), exc.reason, headers)
    except HttpProcessingError as exc:
        # aiohttp's parser refusing a body read inside the handler (a malformed multipart
        # part's headers, say): the client's error, a 400, not one of ours.
        status = exc.code if 400 <= exc.code < 500 else 400
        message = f"the request is malformed: {exc.message}".strip().rstrip(":")
        return error_response(status, _code_for(status), message[:300])
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, "internal_error", "internal error; it has been logged")


@dataclass
class Lifecycle:
    """Whether this instance is draining before it stops (streamcore/web/instance.py)."""

    draining: bool = False


LIFECYCLE_KEY = web.AppKey("lifecycle", Lifecycle)


def health_routes(
    ready_check: Callable[[web.Application], Awaitable[None]] | None = None,
) -> list[web.RouteDef]:
    """``/healthz`` (the process answers) and ``/readyz`` (its dependencies answer too)."""

    async def healthz(request: web.Request) -> web.Response:
        lifecycle = request.app.get(LIFECYCLE_KEY)
        if lifecycle is not None and lifecycle.draining:
            # Failing the gateway's check takes the instance out while it finishes its work.
            return web.json_response({"status": "draining"}, status=503)
        return web.json_response({"status": "ok"})

    async def readyz(request: web.Request) -> web.Response:
        if ready_check is not None:
            try:
                await ready_check(request.app)
            except Exception as exc:  # not ready, whatever the cause; said in the body
                log.warning("not ready: %s", exc)
                return error_response(503, "not_ready", str(exc))
        return web.json_response({"status": "ok"})

    return [web.get("/healthz", healthz), web.get("/readyz", readyz)]
