"""Alerts (docs/analytics.md, "Alerts"): the configured rules evaluated each minute against the
per-minute QoE rollups and the gateway's healthy instances.

- `rules.py`: pure logic: which minutes a rule looks at, whether they breach it, what changes.
- `queries.py` / `writes.py`: the alerts' SQL (the `analytics.alerts` and
  `analytics.alert_notifications` tables of migration 0017).
- `webhook.py`: the Alertmanager-like JSON payload and its delivery, retried until it lands.
- `announce.py`: the one seam that publishes a transition to live notifications.
- `evaluate.py`: one evaluation (`run(context)`), the job the processor runs every minute;
  healthy instances come from analytics/platform/gateway.py.
"""
