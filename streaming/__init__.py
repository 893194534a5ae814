"""The streaming service (aiohttp): what a viewer does once the catalog has something to play.

It owns the ``streaming`` schema (watch sessions, watch progress, playback events) and asks the
catalog, over HTTP, about assets; the origin serves the bytes. Built by
``streaming.app.create_app(settings)``; ``python -m streaming`` serves it.

- ``app`` (factory), ``resources`` (the pool, Redis, the catalog client: cleanup contexts),
  ``metrics``;
- ``catalog_client``: the one way to the catalog (timeout, circuit breaker, short cache);
- ``playback``: signed playback URLs and steering manifests (handlers);
- ``sessions``: the Session Manager (handlers);
- ``viewing``: viewer ids, watch progress, playback events (handlers), with ``progress`` (the
  Redis-then-PostgreSQL policy) and ``viewer`` (who is watching: only it knows);
- ``queries`` and ``writes``: all of its SQL; ``models``: request and response bodies;
  ``openapi``: its document at /openapi/streaming.json.
"""
