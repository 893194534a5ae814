"""What every aiohttp service shares.

``service`` (settings key, JSON errors, health routes), ``validation`` (path ids, query strings
and JSON bodies to typed values; invalid input to one 400 body), ``openapi`` (each service's
OpenAPI document from its declared operations, and the error body's schema), ``database``
(database unavailability as a 503, the readiness check), ``cors``, ``metrics``,
``representation`` and ``ranges`` (answering from bytes with HTTP done right), ``media_types``,
``paths`` (request paths for published files) and ``access`` (a request's URL token).
"""
