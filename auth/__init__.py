"""The auth service (aiohttp): accounts, profiles, device sessions, tokens and the audit log.

It owns the ``auth`` schema (streamcore/db/migrations/0008_auth.sql) and mints the access
tokens every service verifies locally (streamcore/auth/). Built by
``auth.app.create_app(settings)``; ``python -m auth`` serves it. docs/auth.md describes it.

- ``app`` (factory, refuses to start without a signing key), ``resources`` (the pool, Redis,
  the password hasher: cleanup contexts), ``permissions`` (its route table);
- handlers: ``accounts`` (sign-up, /v1/me), ``sessions`` (login, refresh, logout),
  ``profiles``, ``devices``, ``admin`` (accounts), ``audit`` (reading the log, and recording
  this service's events), ``jwks`` (the public keys);
- rules: ``passwords`` (policy, Argon2id off the event loop), ``throttle`` (failed sign-ins,
  in Redis), ``refresh_tokens`` (rotation, grace, reuse), ``signout`` (the one way device
  sessions end), ``issuing`` (access tokens as handed out);
- ``audit_consumer``: the background task appending the kernel's audit stream to the table;
- ``queries``, ``writes`` and ``session_writes``: all of its SQL; ``cursors``: list cursors;
  ``models``: request and response bodies; ``views``: their JSON; ``openapi``: its document
  at /openapi/auth.json; ``caller``: the person behind a request.
"""
