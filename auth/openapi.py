"""Every endpoint of the auth service, declared once for its OpenAPI document, served at
/openapi/auth.json (the gateway routes that prefix here). Built by streamcore/web/openapi.py,
like the catalog's and the streaming service's.

tests/integration/test_openapi.py checks that this list and the app's routes match.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from auth import models as m
from auth import ratelimit_models as rl
from streamcore.web import diagnostics
from streamcore.web.openapi import (
    Body,
    ErrorBody,
    Operation,
    Param,
    Reply,
    build,
    health_operations,
)

PATH = "/openapi/auth.json"
UUID = {"type": "string", "format": "uuid"}
PROFILE_ID = Param("profile_id", "path", UUID)
DEVICE_ID = Param("device_id", "path", UUID)
ACCOUNT_ID = Param("account_id", "path", UUID)
RANGE = Param(
    "range",
    "path",
    {"type": "string", "examples": ["203.0.113.0/24"]},
    required=True,
    description="An IPv4 /24 or IPv6 /56 (or an address in it), slashes as they are",
)
FORBIDDEN = Reply("The caller's role may not, or it is a service account's key", ErrorBody)
THROTTLED = Reply("Too many failed sign-ins: wait Retry-After seconds", ErrorBody,
                  headers=("Retry-After",))  # fmt: skip

SIGN_IN = [
    Operation("POST", "/v1/auth/signup", "signup", "Create an account (and its first profile)",
              "accounts", {201: Reply("The account", m.AccountCreated)}, body=Body(m.Signup),
              errors=(400, 409, 503),
              description="400 `password_too_short`, `password_too_long` or "
              "`password_too_common` for a password the policy refuses; 409 `email_taken`; "
              "503 `rate_limiter_unavailable` while sign-ups cannot be counted."),
    Operation("POST", "/v1/auth/login", "login", "Sign in: a new device session and its tokens",
              "sessions", {200: Reply("Tokens", m.TokensOut), 429: THROTTLED},
              body=Body(m.Login), errors=(400, 401, 503),
              description="401 `invalid_credentials`; 401 `password_not_set` for an account "
              "made without a password (by an import) until an admin sets one; 429 "
              "`too_many_attempts` with Retry-After "
              "after too many failures for the account or from the client's IP, or "
              "`rate_limited` past the sign-in budgets (per IP and per account); 503 "
              "`rate_limiter_unavailable` while sign-ins cannot be counted."),
    Operation("POST", "/v1/auth/refresh", "refresh",
              "A new access token and a new refresh token (the one given is used up)",
              "sessions", {200: Reply("Tokens", m.TokensOut)}, body=Body(m.Refresh),
              errors=(400, 401),
              description="401 `invalid_refresh_token`; 401 `refresh_token_reused` for a token "
              "used before (past the grace): the device is then signed out."),
    Operation("POST", "/v1/auth/logout", "logout", "Sign this device out", "sessions",
              {204: Reply("Signed out"), 403: FORBIDDEN}, admin=True),
    Operation("GET", "/v1/me", "me", "The token's account, profile and device", "accounts",
              {200: Reply("The account", m.MeOut), 403: FORBIDDEN}, admin=True, errors=(404,)),
]  # fmt: skip

PROFILES = [
    Operation("GET", "/v1/profiles", "listProfiles", "The account's profiles", "profiles",
              {200: Reply("Profiles, oldest first", m.ProfileList), 403: FORBIDDEN},
              admin=True),
    Operation("POST", "/v1/profiles", "createProfile", "Add a profile", "profiles",
              {201: Reply("The profile", m.ProfileOut, headers=("Location",)), 403: FORBIDDEN},
              body=Body(m.ProfileIn), admin=True, errors=(400, 409),
              description="409 `too_many_profiles` at auth.max_profiles."),
    Operation("PATCH", "/v1/profiles/{profile_id}", "patchProfile", "Change a profile",
              "profiles", {200: Reply("The profile", m.ProfileOut), 403: FORBIDDEN},
              (PROFILE_ID,), body=Body(m.ProfilePatch), admin=True, errors=(400, 404)),
    Operation("DELETE", "/v1/profiles/{profile_id}", "deleteProfile", "Delete a profile",
              "profiles", {204: Reply("Deleted"), 403: FORBIDDEN}, (PROFILE_ID,), admin=True,
              errors=(404, 409), description="409 `last_profile`: an account keeps one."),
    Operation("POST", "/v1/profiles/{profile_id}/select", "selectProfile",
              "An access token scoped to this profile", "profiles",
              {200: Reply("The token", m.ProfileToken), 403: FORBIDDEN}, (PROFILE_ID,),
              admin=True, errors=(404,)),
]  # fmt: skip

DEVICES = [
    Operation("GET", "/v1/devices", "listDevices", "The account's signed-in devices", "devices",
              {200: Reply("Devices, newest first", m.DeviceList), 403: FORBIDDEN}, admin=True),
    Operation("DELETE", "/v1/devices/{device_id}", "deleteDevice", "Sign a device out",
              "devices", {204: Reply("Signed out"), 403: FORBIDDEN}, (DEVICE_ID,), admin=True,
              errors=(404,)),
    Operation("POST", "/v1/devices/sign-out-others", "signOutOthers",
              "Sign out every device but this one", "devices",
              {200: Reply("How many were signed out", m.SignedOut), 403: FORBIDDEN},
              admin=True),
]  # fmt: skip

ADMIN = [
    Operation("GET", "/v1/admin/accounts", "listAccounts", "Accounts with their profiles",
              "admin", {200: Reply("A page, newest first", m.AccountPage), 403: FORBIDDEN},
              query_model=m.AccountsParams, admin=True, errors=(400,)),
    Operation("POST", "/v1/admin/accounts", "createAccount", "Create an account with a role",
              "admin", {201: Reply("The account", m.AccountCreatedByAdmin,
                                   headers=("Location",)), 403: FORBIDDEN},
              body=Body(m.AccountCreate), admin=True, errors=(400, 409)),
    Operation("PATCH", "/v1/admin/accounts/{account_id}", "patchAccount",
              "Change an account's role, or set its password", "admin",
              {200: Reply("The account", m.AccountOut), 403: FORBIDDEN}, (ACCOUNT_ID,),
              body=Body(m.AccountPatch), admin=True, errors=(400, 404),
              description="A password is checked by the policy (400 `password_too_short`, "
              "`password_too_long`, `password_too_common`); setting one signs the account's "
              "devices out. Audited: `role_changed`, `password_set`."),
    Operation("GET", "/v1/admin/profiles/{profile_id}", "getAnyProfile",
              "Any account's profile, with its account", "admin",
              {200: Reply("The profile", m.AdminProfileOut), 403: FORBIDDEN}, (PROFILE_ID,),
              admin=True, errors=(404,),
              description="For the other services (with a service account's key) and admins; "
              "a person's read is audited (`support_read`)."),
    Operation("POST", "/v1/admin/profiles/resolve", "resolveProfiles",
              "Account emails and profile names to ids, creating missing ones if asked",
              "admin", {200: Reply("One answer per item, in order", m.ResolveOut),
                        403: FORBIDDEN},
              body=Body(m.ResolveIn), admin=True, errors=(400,),
              description="Each item is answered on its own: ids (with whether this call "
              "created them), or an error: `invalid_email`, `invalid_profile_name`, "
              "`unknown_account`, `unknown_profile` (without `create_missing`), "
              "`ambiguous_profile` (several profiles of that name), `too_many_profiles` (at "
              "auth.max_profiles). With `create_missing`, a missing account is created with "
              "the role viewer and no password (it cannot sign in until an admin sets one: "
              "PATCH /v1/admin/accounts/{account_id}), a missing profile with the most "
              "permissive maturity level and language `en`; creations are audited "
              "(`account_created`, `profile_created`). Idempotent: the same items again "
              "create nothing."),
    Operation("GET", "/v1/admin/audit", "readAudit", "The audit log", "admin",
              {200: Reply("A page, newest first", m.AuditPage), 403: FORBIDDEN},
              query_model=m.AuditParams, admin=True, errors=(400,)),
]  # fmt: skip

RATE_LIMITS = [
    Operation("GET", "/v1/admin/ratelimit", "rateLimitStatus",
              "Rate limits: switches, budgets, tightening's thresholds, latest trips", "admin",
              {200: Reply("The status", rl.RateLimitStatus), 403: FORBIDDEN}, admin=True,
              errors=(503,)),
    Operation("GET", "/v1/admin/ratelimit/bans", "listBans",
              "Network ranges cooling down after tripping automatic tightening", "admin",
              {200: Reply("The bans", rl.BanList), 403: FORBIDDEN}, admin=True, errors=(503,)),
    Operation("DELETE", "/v1/admin/ratelimit/bans/{range}", "liftBan",
              "Lift a range's cool-down now", "admin",
              {204: Reply("Lifted"), 403: FORBIDDEN}, (RANGE,), query_model=rl.UnbanParams,
              admin=True, errors=(400, 404, 503),
              description="400 `invalid_range` for what is not an IP network or address; "
              "404 `not_banned` for a range not cooling down. Its offences are kept (its next "
              "trip escalates) unless `forget=true`."),
]  # fmt: skip

KEYS = [
    Operation("GET", "/.well-known/jwks.json", "jwks",
              "The public keys access tokens are signed with (RFC 8037 OKP keys)", "keys",
              {200: Reply("The JWKS", m.JwksOut)}),
]  # fmt: skip

OPERATIONS = [
    *SIGN_IN, *PROFILES, *DEVICES, *ADMIN, *RATE_LIMITS, *KEYS, *health_operations("requests"),
    diagnostics.operation("auth"),
]  # fmt: skip

DESCRIPTION = """StreamCore's auth service: accounts, sign-in with device sessions, refresh
tokens, profiles, devices, and (for admins) accounts, the audit log and the rate limits' bans
(docs/ratelimits.md). Access tokens are EdDSA JWTs verified by every service from
`/.well-known/jwks.json` (docs/auth.md).

Operations with a lock need `Authorization: Bearer <access token>` (admin ones an admin's, or
a service account's key). Every error is JSON, `{"error": {"code": "...", "message": "..."}}`,
with a stable `code`; invalid input is a 400 `invalid_request` whose `details` name every
field at fault; a bad token is a 401 `invalid_token`, `token_expired` or `unknown_key`."""


@cache
def document() -> dict[str, Any]:
    return build(
        OPERATIONS, title="StreamCore auth API", version="1", description=DESCRIPTION,
        api_key="An access token from POST /v1/auth/login, or a service account's key",
    )  # fmt: skip
