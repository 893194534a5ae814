"""The catalog API (aiohttp): titles, assets and uploads, on the ``catalog`` schema's tables.

Playback URLs, steering, watch sessions, progress and events are the streaming service's
(``streaming/``); their old paths here answer 308 to it (``assets/moved.py``). Built by
`catalog_api.app.create_app(settings)`; `python -m catalog_api` serves it.
"""
