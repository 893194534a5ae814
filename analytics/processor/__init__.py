"""The analytics processor (``python -m analytics.processor``): consumes the playback events'
stream with a consumer group, keeps raw events and sessions, writes the per-minute rollups
and evaluates the alert rules."""
