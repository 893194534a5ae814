"""Platform metrics (docs/analytics.md, "Platform metrics"): what the gateway and the services
report about themselves, sampled each minute into `analytics.platform_minutes`.

- `gateway.py`: the gateway's servers (health, weight) and backends (requests, latency), read
  from HAProxy's runtime API with the gateway package's client.
- `scrape.py`: the services' own /metrics over HTTP (bounded timeout; silence is "missing"),
  parsed with prometheus_client's text parser; and the job queues in Redis.
- `samples.py`: turning those readings into one minute's rows (rates and ratios from counter
  deltas, histogram quantiles) — pure.
- `collect.py`: the job (`run(context)`), run by the processor every minute.
- `queries.py` / `writes.py`: platform_minutes' SQL; `read.py`: the read API's answer.
"""
