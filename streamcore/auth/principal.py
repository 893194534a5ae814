"""The caller of a request, as handlers see it: set by the authentication middleware."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from aiohttp import web

from streamcore.auth.roles import Role
from streamcore.auth.tokens import AccessClaims


@dataclass(frozen=True)
class Principal:
    """Who is asking. `role` None is an anonymous caller; `service` names a service account."""

    role: Role | None = None
    account_id: UUID | None = None
    profile_id: UUID | None = None
    session_id: UUID | None = None
    maturity: str | None = None
    service: str | None = None

    @classmethod
    def of_claims(cls, claims: AccessClaims) -> Principal:
        return cls(
            role=claims.role, account_id=claims.account_id, profile_id=claims.profile_id,
            session_id=claims.session_id, maturity=claims.maturity,
        )  # fmt: skip

    @property
    def anonymous(self) -> bool:
        return self.role is None

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def is_person(self) -> bool:
        """Signed in as an account (not anonymous, not a service account)."""
        return self.account_id is not None

    @property
    def actor(self) -> str:
        """A stable, loggable name: ``account:<id>``, ``service:<name>`` or ``anonymous``."""
        if self.account_id is not None:
            return f"account:{self.account_id}"
        return f"service:{self.service}" if self.service else "anonymous"

    def may_manage(self, owner_account_id: UUID | None) -> bool:
        """Admins (people and service accounts) manage anything; others what they own."""
        return self.is_admin or (
            self.account_id is not None and self.account_id == owner_account_id
        )


ANONYMOUS = Principal()
PRINCIPAL_KEY = web.RequestKey("principal", Principal)


def principal(request: web.Request) -> Principal:
    """The request's caller (anonymous when the middleware has not run, e.g. unit tests)."""
    return request.get(PRINCIPAL_KEY, ANONYMOUS)
