"""The auth service's routes with a budget of their own (streamcore/ratelimit/classes.py);
the rest are reads or writes. Sign-in and sign-up also spend a per-account budget
(auth/sessions.py, auth/accounts.py)."""

from streamcore.ratelimit.classes import RateClass

RATE_CLASSES = {
    "POST /v1/auth/login": RateClass.LOGIN,
    "POST /v1/auth/signup": RateClass.LOGIN,
}
