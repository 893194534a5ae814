"""Titles' content certifications (G, PG-13, TV-MA, ...): which exist, and how strict each is.

Both come from configuration, ``auth.maturity_levels`` (streamcore/auth/maturity.py): the
levels are ordered from least to most permissive and each lists its certifications, so a
certification is as strict as its level (then its place in the level's list). A title with no
certification counts as the strictest content there is: only the most permissive level sees
it. An episode without one has its series' (the SQL and the documents apply this).
"""

from __future__ import annotations

from collections.abc import Iterable

from streamcore.auth.maturity import known_certifications, levels
from streamcore.settings import AuthSettings
from streamcore.web.service import InvalidRequest
from streamcore.web.validation import invalid


def canonical(settings: AuthSettings, value: str) -> str | None:
    """The configured spelling of `value` (case aside: "pg-13" is "PG-13"); None if unknown."""
    by_key = {name.upper(): name for name in known_certifications(settings)}
    return by_key.get(value.strip().upper())


def unknown(settings: AuthSettings, value: str) -> str:
    """Why `value` is refused, naming what is accepted."""
    accepted = ", ".join(c for level in levels(settings) for c in settings.maturity_levels[level])
    return f"unknown certification {value!r}; one of {accepted}, or null"


def checked(settings: AuthSettings, value: str | None, field: str) -> str | None:
    """`value` in its configured spelling; a 400 naming `field` if no level lists it."""
    if value is None:
        return None
    found = canonical(settings, value)
    if found is None:
        raise invalid_certification(settings, value, field)
    return found


def invalid_certification(settings: AuthSettings, value: str, field: str) -> InvalidRequest:
    return invalid(field, unknown(settings, value))


def _rank(settings: AuthSettings, certification: str) -> tuple[int, int] | None:
    for index, level in enumerate(levels(settings)):
        listed = settings.maturity_levels[level]
        if certification in listed:
            return index, listed.index(certification)
    return None


def strictest(settings: AuthSettings, certifications: Iterable[str | None]) -> str | None:
    """The most mature of `certifications` (an asset's titles'): the one that takes the most
    permissive level to watch. None when there are none, or when any is None or unknown,
    which count as the strictest of all."""
    found: tuple[tuple[int, int], str] | None = None
    for certification in certifications:
        if certification is None or (rank := _rank(settings, certification)) is None:
            return None
        if found is None or rank > found[0]:
            found = (rank, certification)
    return found[1] if found else None
