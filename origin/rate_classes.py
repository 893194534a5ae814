"""Every file the origin serves is MEDIA: budgeted per stream slot (the URL's token), not per
viewer (streamcore/ratelimit/budgets.py)."""

from streamcore.ratelimit.classes import RateClass

RATE_CLASSES = {
    "GET /t/{token}/{tail}": RateClass.MEDIA,
    "GET /assets/{tail}": RateClass.MEDIA,
    "GET /titles/{tail}": RateClass.MEDIA,
}
