"""Request input to typed values, and invalid input to one 400 body.

Every handler reads its path ids, query string and JSON body through these, so every endpoint
answers bad input the same way:

    400 {"error": {"code": "invalid_request",
                   "message": "limit: Input should be less than or equal to 200",
                   "details": [{"field": "limit", "message": "Input should be ..."}]}}

`field` is the parameter, header or body field at fault, nested fields dotted
("titles.3.year"); `message` repeats the first few for people.
"""

from __future__ import annotations

import typing
from typing import TypeVar
from uuid import UUID

from aiohttp import web
from pydantic import BaseModel, ValidationError

from streamcore.web.service import InvalidRequest, NotFound

M = TypeVar("M", bound=BaseModel)
# Enough to fix a request by; a body with thousands of bad rows does not get a huge answer.
MAX_DETAILS = 50
_IN_MESSAGE = 3
_REPEATABLE = (list, tuple, set, frozenset)


def field_errors(exc: ValidationError, root: str) -> list[dict[str, str]]:
    """One {"field", "message"} per pydantic error; `root` names errors about the whole input."""
    return [
        {
            "field": ".".join(str(part) for part in error["loc"]) or root,
            "message": error["msg"].removeprefix("Value error, "),
        }
        for error in exc.errors(include_url=False)[:MAX_DETAILS]
    ]


class InvalidCursor(InvalidRequest):
    """A list cursor that this API did not hand out, or for another list."""

    code = "invalid_cursor"


def invalid_fields(
    details: list[dict[str, str]],
    total: int | None = None,
    *,
    error: type[InvalidRequest] = InvalidRequest,
) -> InvalidRequest:
    """The one 400 for invalid input: every field in `details`, the first few in the message."""
    parts = [f"{d['field']}: {d['message']}" for d in details[:_IN_MESSAGE]]
    more = (total if total is not None else len(details)) - len(parts)
    message = "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")
    return error(message, details=details)


def invalid(
    field: str, problem: str, *, error: type[InvalidRequest] = InvalidRequest
) -> InvalidRequest:
    """A 400 for one field found invalid by hand (a header, a cursor, a database check)."""
    return invalid_fields([{"field": field, "message": problem}], error=error)


def from_validation_error(exc: ValidationError, root: str = "body") -> InvalidRequest:
    return invalid_fields(field_errors(exc, root), exc.error_count())


async def json_body(request: web.Request, model: type[M]) -> M:
    """The request's JSON body as `model`; InvalidRequest (400) naming each bad field."""
    try:
        return model.model_validate_json(await request.read())
    except ValidationError as exc:
        raise from_validation_error(exc, "body") from None


def query_params(request: web.Request, model: type[M]) -> M:
    """The query string as `model`. A parameter may repeat only if its field is a list."""
    raw: dict[str, str | list[str]] = {}
    for name in dict.fromkeys(request.query.keys()):
        values = request.query.getall(name)
        field = model.model_fields.get(name)
        if field is not None and typing.get_origin(field.annotation) in _REPEATABLE:
            raw[name] = values
        elif len(values) > 1:
            raise invalid(name, "give it once")
        else:
            raw[name] = values[0]
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise from_validation_error(exc, "query") from None


def path_uuid(request: web.Request, name: str, what: str) -> UUID:
    """A path segment that is an id. Anything else names nothing: 404, like an unknown id."""
    raw = request.match_info[name]
    try:
        return UUID(raw)
    except ValueError:
        raise NotFound(f"no {what} with id {raw!r}") from None
