"""Who may call each operation, in the OpenAPI document: from the route table itself.

`permissions.PERMISSIONS` is what the middleware enforces; each operation's ``security``,
``x-permission``, its 401/403 answers and a sentence naming the roles are derived from it
here, so the document cannot drift from the checks (an operation missing from the table fails
the build). One scheme, ``bearer``: an access token (a JWT from the auth service) or a service
account key (auth.service_accounts), as ``Authorization: Bearer <token>``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from streamcore.auth.roles import ROLE_PERMISSIONS, Permission

SCHEME = "bearer"
SCHEMES = {
    SCHEME: {
        "type": "http",
        "scheme": "bearer",
        "description": "An access token from the auth service (POST /v1/auth/login; a JWT "
        "whose profile's maturity level filters the titles seen), or a service account key "
        "(auth.service_accounts, for scripts and services)",
    }
}
_ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
_UNAUTHORIZED = "No token, or one that does not verify (`error.code`: unauthorized, "
_UNAUTHORIZED += "invalid_token, token_expired)"
_FORBIDDEN = "The caller's role lacks the permission"


def _roles(permission: Permission) -> str:
    return ", ".join(role.value for role, held in ROLE_PERMISSIONS.items() if permission in held)


def _requirement(path: str, permission: Permission) -> tuple[list[dict[str, Any]], str]:
    """The operation's ``security`` and the sentence saying so."""
    if permission is Permission.PUBLIC:
        if not path.startswith("/v1/"):
            return [], ""  # health, metrics, documents, the player: no token asked for
        # A token is optional, and changes what is seen.
        return [{}, {SCHEME: []}], (
            "Anyone may call it; with a token, a profile's maturity level hides the titles "
            "above it (as if absent)."
        )
    if permission is Permission.PLAY:
        return [{SCHEME: []}, {}], (
            "Needs a token (`play`: any signed-in role), or none where "
            "auth.allow_anonymous_playback allows anonymous playback."
        )
    return [{SCHEME: []}], f"Needs `{permission.value}` (roles: {_roles(permission)})."


def _secure(path: str, operation: dict[str, Any], permission: Permission) -> None:
    operation["x-permission"] = permission.value
    operation["security"], sentence = _requirement(path, permission)
    if sentence:
        operation["description"] = " ".join(filter(None, (operation.get("description"), sentence)))
    responses = operation["responses"]
    if path.startswith("/v1/"):  # a token sent must verify, whatever the permission
        responses.setdefault("401", {"description": _UNAUTHORIZED, "content": _ERROR})
    if permission not in (Permission.PUBLIC, Permission.PLAY):
        responses.setdefault("403", {"description": _FORBIDDEN, "content": _ERROR})
    operation["responses"] = dict(sorted(responses.items()))


def secured(document: dict[str, Any], permissions: Mapping[str, Permission]) -> dict[str, Any]:
    """`document` with the bearer scheme, and each operation's permission from `permissions`."""
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            key = f"{method.upper()} {path}"
            if key not in permissions:
                raise LookupError(f"{key} is documented but has no permission in the table")
            _secure(path, operation, permissions[key])
    document["components"]["securitySchemes"] = SCHEMES
    return document
