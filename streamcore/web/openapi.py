"""Every service's OpenAPI 3.1 document, assembled from pydantic models and one declaration per
operation; the error body every service answers with; the health operations; serving it.

A service declares its operations as data (catalog_api/openapi/operations.py,
streaming/openapi.py), calls `build`, and serves the result with `document_route`; a test per
service checks the declarations against the app's routes.

Why by hand rather than with a library: the one maintained pydantic-2 option for aiohttp,
aiohttp-pydantic, documents only its own class-based `PydanticView`s (our handlers are
functions on RouteTableDefs, the asset and viewing ones owned elsewhere), answers validation
errors in its own list shape instead of our `{"error": {"code", ...}}`, and targets OpenAPI 3.0,
which needs pydantic's JSON Schema rewritten. OpenAPI 3.1 takes JSON Schema 2020-12 as it is,
so pydantic's `models_json_schema` gives the components directly, and what is left is this small
module: operations declared as data, checked against the app's routes by a test.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, Field
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from streamcore.ratelimit.classes import unlimited_path

_REF = "#/components/schemas/{model}"
# The reason phrases of the error statuses operations declare.
_ERRORS = {
    400: "Invalid request: `error.message` names the parameter or field",
    401: "Missing or invalid credentials (an access token, or a service account's key)",
    403: "Not allowed: signed in, but `error.code` says why not",
    404: "Not found",
    409: "Conflict with the current state",
    413: "Body too large",
    415: "Unsupported Content-Type",
    503: "A dependency is unavailable; retry after Retry-After",
}
# Every operation but the health checks spends a rate-limit budget (docs/ratelimits.md).
_RATE_FIELDS = {
    "RateLimit-Policy": {
        "description": 'The budget (draft-ietf-httpapi-ratelimit-headers-10): "read";q=100;w=60',
        "schema": {"type": "string"},
    },
    "RateLimit": {
        "description": 'What is left of it, and in how many seconds more: "read";r=42;t=17',
        "schema": {"type": "string"},
    },
}
_TOO_MANY = (
    "Too many requests (`rate_limited`), or fewer allowed for a while from the caller's network "
    "(`abnormal_usage`): retry after Retry-After"
)


class FieldProblem(BaseModel):
    field: str = Field(
        description="The parameter, header or body field at fault; nested fields dotted "
        "(`titles.3.year`); `body` or `query` for the whole of it"
    )
    message: str


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable, for programs: invalid_request, not_found, ...")
    message: str = Field(description="For people; names the field or parameter at fault")
    details: list[FieldProblem] | None = Field(
        None,
        description="With `invalid_request` (and `invalid_cursor`): every field at fault "
        "(at most 50)",
    )


class ErrorBody(BaseModel):
    """Every 4xx and 5xx answer of every service (streamcore/web/service.py json_errors)."""

    error: ErrorDetail


class Status(BaseModel):
    status: str


@dataclass(frozen=True)
class Param:
    name: str
    location: Literal["path", "query", "header"]
    schema: dict[str, Any]
    required: bool = False
    description: str = ""


@dataclass(frozen=True)
class Body:
    """A request body: a model (JSON), or raw schemas by content type."""

    model: type[BaseModel] | None = None
    raw: dict[str, dict[str, Any]] = field(default_factory=dict)
    description: str = ""


@dataclass(frozen=True)
class Reply:
    description: str
    model: type[BaseModel] | None = None
    schema: dict[str, Any] | None = None
    headers: tuple[str, ...] = ()
    media_type: str = "application/json"


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    operation_id: str
    summary: str
    tag: str
    replies: dict[int, Reply]
    params: tuple[Param, ...] = ()
    query_model: type[BaseModel] | None = None
    body: Body | None = None
    admin: bool = False
    errors: tuple[int, ...] = ()
    description: str = ""
    # Still answered (say, by a redirect to where it moved), no longer to be used.
    deprecated: bool = False


def _models(operations: list[Operation]) -> list[tuple[type[BaseModel], JsonSchemaMode]]:
    wanted: dict[tuple[type[BaseModel], JsonSchemaMode], None] = {
        (ErrorBody, "serialization"): None
    }
    for op in operations:
        if op.query_model:
            wanted[(op.query_model, "validation")] = None
        if op.body and op.body.model:
            wanted[(op.body.model, "validation")] = None
        for reply in op.replies.values():
            if reply.model:
                wanted[(reply.model, "serialization")] = None
    return list(wanted)


def _query_schema(prop: dict[str, Any]) -> dict[str, Any]:
    """A query parameter is absent or a value: `X | None` (default null) is just X."""
    schema = {k: v for k, v in prop.items() if k not in ("title", "description")}
    variants = schema.get("anyOf", [])
    if schema.get("default", 0) is None and len(variants) == 2 and {"type": "null"} in variants:
        schema.pop("default")
        schema.update(next(v for v in schema.pop("anyOf") if v != {"type": "null"}))
    return schema


def _query_params(model_schema: dict[str, Any]) -> list[dict[str, Any]]:
    required = set(model_schema.get("required", []))
    return [
        {"name": name, "in": "query", "required": name in required,
         "description": prop.get("description", ""), "schema": _query_schema(prop)}
        for name, prop in model_schema["properties"].items()
    ]  # fmt: skip


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _operation(op: Operation, refs: dict[Any, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "operationId": op.operation_id,
        "summary": op.summary,
        "tags": [op.tag],
        "security": [{"apiKey": []}] if op.admin else [],
    }
    if op.description:
        out["description"] = op.description
    if op.deprecated:
        out["deprecated"] = True
    params = [
        {"name": p.name, "in": p.location, "required": p.required or p.location == "path",
         "description": p.description, "schema": p.schema}
        for p in op.params
    ]  # fmt: skip
    if op.query_model:
        name = refs[(op.query_model, "validation")]["$ref"].rsplit("/", 1)[-1]
        params += _query_params(schemas[name])
    if params:
        out["parameters"] = params
    if op.body:
        content = dict(op.body.raw)
        if op.body.model:
            content.update(_json(refs[(op.body.model, "validation")]))
        out["requestBody"] = {"required": True, "content": content}
        if op.body.description:
            out["requestBody"]["description"] = op.body.description
    responses: dict[str, Any] = {}
    for status, reply in op.replies.items():
        response: dict[str, Any] = {"description": reply.description}
        if reply.model:
            response["content"] = _json(refs[(reply.model, "serialization")])
        elif reply.schema:
            response["content"] = {reply.media_type: {"schema": reply.schema}}
        if reply.headers:
            response["headers"] = {h: {"schema": {"type": "string"}} for h in reply.headers}
        responses[str(status)] = response
    error = _json(refs[(ErrorBody, "serialization")])
    for status in sorted({*op.errors, *((401,) if op.admin else ())}):
        responses[str(status)] = {"description": _ERRORS[status], "content": error}
    if not unlimited_path(op.path):
        for code, answer in responses.items():
            if code.startswith("2"):
                answer["headers"] = {**answer.get("headers", {}), **_RATE_FIELDS}
        retry_after = {"description": "Whole seconds", "schema": {"type": "integer"}}
        declared = responses.get("429", {})  # its own 429s too (a sign-in's throttle)
        described = f"{declared['description']}; or: {_TOO_MANY}" if declared else _TOO_MANY
        responses["429"] = {
            "description": described, "content": error,
            "headers": {**declared.get("headers", {}), "Retry-After": retry_after,
                        **_RATE_FIELDS},
        }  # fmt: skip
    out["responses"] = responses
    return out


def build(
    operations: list[Operation],
    *,
    title: str,
    version: str,
    description: str,
    api_key: str | None = None,
) -> dict[str, Any]:
    """The document; `api_key` describes the bearer key that `admin` operations need."""
    refs, top = models_json_schema(_models(operations), ref_template=_REF)
    schemas: dict[str, Any] = top.get("$defs", {})
    paths: dict[str, dict[str, Any]] = {}
    for op in operations:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op, refs, schemas)
    # Query models are spelled out as parameters: their own schemas would be unused.
    for op in operations:
        if op.query_model:
            schemas.pop(refs[(op.query_model, "validation")]["$ref"].rsplit("/", 1)[-1], None)
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version, "description": description},
        "tags": [{"name": t} for t in dict.fromkeys(op.tag for op in operations)],
        "paths": paths,
        "components": {
            "schemas": schemas,
            **(
                {"securitySchemes": {
                    "apiKey": {"type": "http", "scheme": "bearer", "description": api_key}
                }}
                if api_key is not None else {}
            ),
        },
    }  # fmt: skip


def health_operations(metrics: str) -> list[Operation]:
    """/healthz and /readyz (streamcore/web/service.py health_routes), and /metrics."""
    return [
        Operation("GET", "/healthz", "healthz", "The process answers", "health",
                  {200: Reply("Alive", Status)}),
        Operation("GET", "/readyz", "readyz", "The process and its database answer", "health",
                  {200: Reply("Ready", Status), 503: Reply("Not ready", ErrorBody)}),
        Operation("GET", "/metrics", "metrics", f"Prometheus metrics: {metrics}", "health",
                  {200: Reply("The Prometheus text format", schema={"type": "string"},
                              media_type="text/plain")}),
    ]  # fmt: skip


def document_route(path: str, document: dict[str, Any]) -> web.RouteDef:
    """GET `path`: the document as JSON (serialised once, here)."""
    body = json.dumps(document, separators=(",", ":")).encode()

    async def serve(request: web.Request) -> web.Response:
        return web.Response(
            body=body, content_type="application/json", headers={"Cache-Control": "no-cache"}
        )

    return web.get(path, serve)
