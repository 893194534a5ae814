"""The catalog: titles (movies, series, episodes), their assets and posters.

models.py    request bodies and list parameters (pydantic; they also generate the OpenAPI)
queries.py   the reads, as plain JSON-able documents without signed URLs (cacheable)
writes.py    the writes, each one transaction
effects.py   what follows a committed write: read-your-writes, cache invalidation, CDN purges
images.py    poster validation and re-encoding (Pillow, in an executor), and storing them
posters.py   replacing a title's poster: render, store, write, then effects
views.py     documents to responses: signed CDN URLs for the images, cursors
handlers.py  HTTP
"""
