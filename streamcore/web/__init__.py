"""What every aiohttp service shares.

``service`` (settings key, JSON errors, health routes), ``cors``, ``metrics``, ``representation``
and ``ranges`` (answering from bytes with HTTP done right), ``media_types``, ``paths`` (request
paths for published files) and ``access`` (a request's URL token).
"""
