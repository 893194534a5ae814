"""The IETF RateLimit-Policy and RateLimit fields (draft-ietf-httpapi-ratelimit-headers-10).

Both are Structured Fields lists of one item here, the policy named after the endpoint class:

    RateLimit-Policy: "read";q=100;w=60     (quota q per window w seconds)
    RateLimit: "read";r=42;t=17             (r remaining, t seconds until more)

A GCRA budget advertises its burst as the quota, and the time the burst takes to refill as
its window. Retry-After (whole seconds) goes with every 429.
"""

from __future__ import annotations

import math

from streamcore.ratelimit.algorithms import Verdict
from streamcore.ratelimit.config import RateRule


def window_s(rule: RateRule) -> int:
    if rule.algorithm == "gcra":
        return max(1, math.ceil(rule.capacity * rule.period_s / rule.limit))
    return max(1, math.ceil(rule.period_s))


def policy(name: str, rule: RateRule, verdict: Verdict) -> str:
    # verdict.limit: the quota now, which tightening may have reduced.
    return f'"{name}";q={verdict.limit};w={window_s(rule)}'


def current(name: str, verdict: Verdict) -> str:
    return f'"{name}";r={verdict.remaining};t={verdict.reset_s}'


def fields(name: str, rule: RateRule, verdict: Verdict) -> dict[str, str]:
    return {"RateLimit-Policy": policy(name, rule, verdict), "RateLimit": current(name, verdict)}
