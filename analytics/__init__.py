"""The analytics service: what viewers experience, minute by minute (docs/analytics.md).

It owns the ``analytics`` schema. Its web instances (``python -m analytics``) run the
collector (``POST /v1/events``: validate, append to a Redis stream, answer) and the read API
(``GET /v1/analytics/...``) with the admin dashboard; its processor (``python -m
analytics.processor``) consumes the stream, keeps raw events and sessions' QoE, writes the
per-minute rollups and evaluates the alert rules.
"""
