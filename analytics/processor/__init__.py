"""The analytics processor (``python -m analytics.processor``): consumes the playback events'
stream with a consumer group, keeps raw events and sessions, runs the periodic jobs (the
per-minute rollups, partition upkeep; alerts later).

- ``consumer``: the stream's consumer side (XREADGROUP, XAUTOCLAIM, acknowledge);
- ``store``: one batch into PostgreSQL (events once each, sessions recomputed);
- ``loop``: the consume, heartbeat and periodic loops, and the graceful stop;
- ``periodic``: the table of periodic jobs, each under an advisory lock;
- ``context``: what the loops and jobs share.
"""
