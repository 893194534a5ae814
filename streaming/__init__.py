"""The streaming service (aiohttp): what a viewer does once the catalog has something to play.

It owns the ``streaming`` schema (watch sessions, watch progress, playback events, viewer
claims) and asks the catalog, over HTTP, about assets; the origin serves the bytes; the auth
service's tokens say who is watching (docs/streaming.md). Built by
``streaming.app.create_app(settings)``; ``python -m streaming`` serves it.

- ``app`` (factory, middlewares), ``resources`` (the pool, Redis, the stream slots, the
  catalog client: cleanup contexts), ``metrics``, ``permissions`` (who may call each route);
- ``catalog_client``: the one way to the catalog (timeout, circuit breaker, short cache);
- ``playback``: signed playback URLs and steering manifests (handlers);
- ``sessions``: the Session Manager (handlers), with ``streams`` (signed-in sessions: stream
  slots, short-lived URLs renewed by heartbeats) and ``slots`` (the slots in Redis, one
  atomic script);
- ``grants``: what a grant to a signed-in viewer checks (sign-out, maturity), and the audit
  events streaming publishes;
- ``viewing``: viewer ids, watch progress, claims of anonymous viewers (with the events
  they sent before; playback events are collected by the analytics service now)
  (handlers), with ``progress`` (the Redis-then-PostgreSQL policy) and ``viewer`` (who is
  watching: only it knows);
- ``queries`` and ``writes``: all of its SQL; ``models``: request and response bodies;
  ``openapi``: its document at /openapi/streaming.json.
"""
