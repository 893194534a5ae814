"""Fuzzing a service against its own OpenAPI document (schemathesis): shared by the catalog's
and the streaming service's tests.

Generated requests, valid and invalid, go to a running service: no answer may be a 5xx, every
error must be our JSON error with a `code`, and every answer must match the document (status,
content type, body schema).
"""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)


def json_error(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every 4xx and 5xx is our JSON error: {"error": {"code": ..., "message": ...}}."""
    if response.status_code < 400:
        return None
    body = response.json()
    error = body.get("error") if isinstance(body, dict) else None
    if not (isinstance(error, dict) and isinstance(error.get("code"), str) and error["code"]):
        raise Failure(
            operation=case.operation.label, title="Not a JSON error with a code",
            message=f"{response.status_code}: {response.text[:200]}",
        )  # fmt: skip
    return None


CHECKS = [
    not_a_server_error, json_error, status_code_conformance, content_type_conformance,
    response_schema_conformance,
]  # fmt: skip


def fuzz(
    operation: Any, mode: GenerationMode, known_ids: dict[str, list[str]],
    call: dict[str, Any], statuses: dict[int, int],
) -> None:  # fmt: skip
    """Up to 30 cases of `mode` for `operation`; valid ones name ids from `known_ids` (path
    parameter -> ids) half of the time, so that more than the 404 paths are exercised."""

    @given(case=operation.as_strategy(generation_mode=mode),
           known_values=st.fixed_dictionaries(
               {name: st.sampled_from(ids) for name, ids in known_ids.items()}),
           known=st.booleans())  # fmt: skip
    @settings(max_examples=30, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    def run(case: schemathesis.Case, known_values: dict[str, str], known: bool) -> None:
        params = case.path_parameters
        if known and mode == GenerationMode.POSITIVE and params:
            params.update({k: v for k, v in known_values.items() if k in params})
        response = case.call_and_validate(**call, checks=CHECKS)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

    try:
        run()
    except Unsatisfiable:
        # Nothing to make invalid (no parameters, no body): positive cases only.
        assert mode == GenerationMode.NEGATIVE, operation.label
