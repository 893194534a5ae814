"""Who pays for a request, and from which budget.

- MEDIA: the stream slot, that is the playback grant (the grant id of the URL's token, in
  the path or the query, once its MAC holds: streamcore/signing.py): every stream has its
  own budget, so an account's four streams never compete, and its API calls never eat into
  them. Without one (no token, a forged one, a title's images shared by every viewer): the
  client address.
- LOGIN: the client address (and, from the sign-in handlers, the account: `account_budget`).
- READ, WRITE, UPLOAD: service accounts by name, admins by account (their own, higher
  budgets), other signed-in callers by account at their plan's budget, anonymous callers by
  client address (IPv4 whole, IPv6 by /64).

A person's plan comes from the subscriptions service (`EntitlementsClient`, cached a few
seconds); when it cannot say, the free plan's budget applies: lower, never none.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from aiohttp import web

from streamcore import signing
from streamcore.auth.principal import Principal
from streamcore.entitlements_client import EntitlementsClient
from streamcore.ratelimit import keys
from streamcore.ratelimit.classes import RateClass
from streamcore.ratelimit.config import RateLimitSettings, RateRule, TieredBudget
from streamcore.settings import Settings
from streamcore.web.service import ServiceUnavailable

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Budget:
    rate_class: RateClass
    tier: str  # anonymous, a plan's name, admin, service, slot, ip, account
    key: str  # the Redis key of the budget
    rule: RateRule


def _tiered(section: RateLimitSettings, rate_class: RateClass) -> TieredBudget:
    tiered: TieredBudget = getattr(section, rate_class.value)
    return tiered


def _slot(request: web.Request, settings: Settings) -> str | None:
    """The stream slot of a media request: its token's grant id, when its MAC holds."""
    token = request.match_info.get("token") or request.query.get(settings.origin.token_param)
    if not token:
        return None
    grant = signing.grant_of(token, settings.origin.signing_keys)
    return grant.grant_id if grant is not None else None


async def _plan(entitlements: EntitlementsClient | None, caller: Principal, free: str) -> str:
    if entitlements is None or caller.account_id is None:
        return free
    try:
        return (await entitlements.entitlement(caller.account_id)).plan
    except ServiceUnavailable as exc:
        log.info("rate limits: %s: plan unknown (%s); the free plan's budget", caller.actor, exc)
        return free


async def budget_for(
    request: web.Request,
    rate_class: RateClass,
    caller: Principal,
    client: str,
    settings: Settings,
    entitlements: EntitlementsClient | None,
) -> Budget:
    section = settings.ratelimit
    name = rate_class.value
    if rate_class is RateClass.MEDIA:
        if (slot := _slot(request, settings)) is not None:
            key = keys.budget(name, f"slot:{slot}")
            return Budget(rate_class, "slot", key, section.media_per_slot)
        return Budget(rate_class, "ip", keys.budget(name, f"ip:{client}"), section.media_per_ip)
    if rate_class is RateClass.LOGIN:
        return Budget(rate_class, "ip", keys.budget(name, f"ip:{client}"), section.login_per_ip)
    tiered = _tiered(section, rate_class)
    if caller.service is not None:
        return Budget(rate_class, "service", keys.budget(name, f"s:{caller.service}"),
                      tiered.service)  # fmt: skip
    if caller.account_id is None:
        return Budget(rate_class, "anonymous", keys.budget(name, f"ip:{client}"),
                      tiered.anonymous)  # fmt: skip
    subject = keys.budget(name, f"a:{caller.account_id}")
    if caller.is_admin:
        return Budget(rate_class, "admin", subject, tiered.admin)
    free = settings.subscriptions.free_plan
    plan = await _plan(entitlements, caller, free)
    rule = tiered.plans.get(plan) or tiered.plans[free]
    return Budget(rate_class, plan, subject, rule)


def account_budget(settings: Settings, account: str) -> Budget:
    """The per-account sign-in budget: the address as typed, normalised, never stored."""
    subject = f"email:{keys.digest(account.strip().lower())}"
    return Budget(RateClass.LOGIN, "account", keys.budget("login", subject),
                  settings.ratelimit.login_per_account)  # fmt: skip
