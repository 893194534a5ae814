"""Who is asking, for the endpoints about one's own account: a person's access token."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from aiohttp import web

from streamcore.auth.principal import Principal, principal
from streamcore.settings import Settings
from streamcore.web.client_ip import client_ip
from streamcore.web.service import SETTINGS_KEY, Forbidden


class AccountRequired(Forbidden):
    code = "account_required"


@dataclass(frozen=True)
class Person:
    """A signed-in account, on one device session (every access token names both)."""

    principal: Principal
    account_id: UUID
    session_id: UUID


def person(request: web.Request) -> Person:
    """The account of the request's access token; 403 for a service account's key (it has no
    account, profiles or devices)."""
    caller = principal(request)
    if caller.account_id is None or caller.session_id is None:
        raise AccountRequired("this needs a person's access token, not a service account's key")
    return Person(caller, caller.account_id, caller.session_id)


def settings_of(request: web.Request) -> Settings:
    return request.app[SETTINGS_KEY]


def ip_of(request: web.Request) -> str | None:
    return client_ip(request, request.app[SETTINGS_KEY])
