"""Rate limits and abuse protection, shared by every service (docs/ratelimits.md).

- ``config``: the ``ratelimit`` settings section (budgets per class and tier, tightening);
- ``keys``: every Redis key, and the address groupings (client /64, range /24 and /56);
- ``algorithms``: the sliding-window and GCRA Lua scripts on Redis' clock;
- ``local``: the per-process limiter used while Redis cannot be reached;
- ``classes``: which endpoint class a request belongs to;
- ``headers``: the IETF RateLimit-Policy / RateLimit fields;
- ``middleware``: the one guard every service installs (who pays, which budget, fail modes,
  shadow mode, 429s);
- ``abuse``: automatic tightening of misbehaving network ranges, bans and their escalation;
- ``metrics``: what all of it counts.
"""
