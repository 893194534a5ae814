"""The subscription plans: read from ``subscriptions.plans_path`` (default configs/plans.yaml),
validated once with the settings, the same in every process.

A plan says what a paid period costs and what it grants while its subscription grants it:
concurrent streams, the highest rendition (by picture height) and whether premium titles
are included. `streamcore/entitlements.py` turns a plan into an entitlement; which plan an
account has now is the subscriptions service's to say.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")


class PlansError(ValueError):
    """The plans file is missing or invalid; the message names the file and the key."""


class Plan(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=_NAME.pattern)
    display_name: str = Field(min_length=1, max_length=64)
    price: Decimal = Field(ge=0, max_digits=12, decimal_places=2)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    interval: Literal["day", "week", "month", "year"] = "month"
    interval_count: int = Field(1, ge=1, le=36)
    streams: int = Field(ge=1, le=64)
    max_height: int = Field(ge=144, le=4320)
    premium: bool = False

    @property
    def amount_minor(self) -> int:
        """The price in the currency's minor unit (cents), as payment providers want it."""
        return int(self.price * 100)

    @property
    def is_free(self) -> bool:
        return self.price == 0


class Plans(BaseModel):
    """Every plan by name, in the file's order (cheapest first, by convention)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    plans: dict[str, Plan]

    @field_validator("plans", mode="before")
    @classmethod
    def _named(cls, value: object) -> object:
        if isinstance(value, dict):
            return {
                name: {"name": name, **body} if isinstance(body, dict) else body
                for name, body in value.items()
            }
        return value

    def __getitem__(self, name: str) -> Plan:
        return self.plans[name]

    def __contains__(self, name: object) -> bool:
        return name in self.plans

    def names(self) -> list[str]:
        return list(self.plans)

    def rank(self, name: str) -> int:
        """Upgrades and downgrades compare plans by price, then streams, then height."""
        plan = self.plans[name]
        ordered = sorted(
            self.plans.values(), key=lambda p: (p.price, p.streams, p.max_height, p.premium)
        )
        return ordered.index(plan)


def load_plans(path: Path) -> Plans:
    """The plans of `path`; PlansError naming the file and the bad key."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PlansError(f"{path}: cannot read the plans: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise PlansError(f"{path}: not valid YAML: {exc}") from None
    try:
        return Plans.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}" for error in exc.errors()
        )
        raise PlansError(f"{path}: {problems}") from None
