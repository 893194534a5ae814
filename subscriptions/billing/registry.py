"""The billing provider chosen by ``subscriptions.provider``: one factory per adapter.

The Stripe adapter (subscriptions/billing/stripe_billing.py) is imported only when chosen, so
that the SDK is loaded by the processes that use it alone.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

import asyncpg

from streamcore.settings import Settings
from subscriptions.billing.local import LocalBilling
from subscriptions.billing.port import BillingProvider


def _local(settings: Settings, pool: asyncpg.Pool) -> BillingProvider:
    return LocalBilling.from_settings(settings, pool)


def _stripe(settings: Settings, pool: asyncpg.Pool) -> BillingProvider:
    module = importlib.import_module("subscriptions.billing.stripe_billing")
    provider: BillingProvider = module.from_settings(settings)
    return provider


FACTORIES: dict[str, Callable[[Settings, asyncpg.Pool], BillingProvider]] = {
    "local": _local,
    "stripe": _stripe,
}


def build_provider(settings: Settings, pool: asyncpg.Pool) -> BillingProvider:
    """The configured provider; the local one keeps its records in `pool`'s database."""
    return FACTORIES[settings.subscriptions.provider](settings, pool)
