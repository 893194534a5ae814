"""The origin (aiohttp): serves published HLS/DASH files from object storage behind signed URLs.

Built by `origin.app.create_app(settings)`; `python -m origin` serves it. It never imports
`transcoder/`: it serves what the pipeline published, whatever made it.
"""
