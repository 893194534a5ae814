"""Watch history and Continue Watching (docs/history.md).

Progress reports go to Redis first (`reports`): the position for resuming at once, and the
report itself onto a Redis stream that each instance's `flusher` writes to PostgreSQL in
batches. `writes` owns the upserts (a later client timestamp wins, never an older one),
`queries` the reads, `continue_watching` the row's rules, `handlers` the HTTP endpoints.
"""
