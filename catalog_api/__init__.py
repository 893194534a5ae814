"""The catalog API (aiohttp): assets and uploads now; titles, accounts and playback later.

Built by `catalog_api.app.create_app(settings)`; `python -m catalog_api` serves it.
"""
