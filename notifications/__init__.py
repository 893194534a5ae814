"""The notifications service: one WebSocket per signed-in client (``/v1/ws``), fed from Redis
streams per channel so that every instance fans out every message (docs/notifications.md)."""
