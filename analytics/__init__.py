"""The analytics service: what viewers experience, minute by minute (docs/analytics.md).

It owns the ``analytics`` schema. Its web instances (``python -m analytics``) run the
collector (``POST /v1/events``: validate, append to a Redis stream, answer) and the read API
(``GET /v1/analytics/...``) with the admin dashboard; its processor (``python -m
analytics.processor``) consumes the stream, keeps raw events and sessions' QoE, writes the
per-minute rollups and evaluates the alert rules.

Modules: ``collector`` (POST /v1/events), ``models`` and ``details`` (the wire format),
``keys`` (Redis names), ``qoe`` (a session's QoE, pure), ``rollups`` (qoe_minutes),
``partitions`` (analytics.events' days), ``titles`` (asset to title, from the catalog),
``handlers`` and ``queries`` (the read API), ``outputs`` and ``openapi`` (its document),
``processor/`` (the stream's consumer and the periodic jobs).
"""
