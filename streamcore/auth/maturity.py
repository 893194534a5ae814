"""Which titles a profile may see: its maturity level against the titles' certifications.

``auth.maturity_levels`` orders the levels from least to most permissive; a level sees its own
certifications and every earlier level's. A title without a certification, or with one no
level lists, counts as the most restricted content (the last level's).
"""

from __future__ import annotations

from streamcore.settings import AuthSettings


class UnknownMaturity(ValueError):
    pass


def levels(settings: AuthSettings) -> list[str]:
    return list(settings.maturity_levels)


def allowed_certifications(settings: AuthSettings, level: str) -> frozenset[str] | None:
    """The certifications `level` may see; None means everything (the most permissive level)."""
    names = levels(settings)
    if level not in names:
        raise UnknownMaturity(f"unknown maturity level {level!r}; one of {', '.join(names)}")
    if level == names[-1]:
        return None
    allowed: set[str] = set()
    for name in names[: names.index(level) + 1]:
        allowed.update(settings.maturity_levels[name])
    return frozenset(allowed)


def may_see(settings: AuthSettings, level: str | None, certification: str | None) -> bool:
    """Whether a profile at `level` (None: no profile restriction) may see a title."""
    if level is None:
        return True
    allowed = allowed_certifications(settings, level)
    return allowed is None or (certification is not None and certification in allowed)


def known_certifications(settings: AuthSettings) -> frozenset[str]:
    return frozenset(c for certs in settings.maturity_levels.values() for c in certs)
