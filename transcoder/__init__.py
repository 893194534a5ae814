"""The transcoder: probes a source, plans the ladder and runs FFmpeg.

A leaf package: no aiohttp, no database, no storage. It turns a local source file and a typed
job spec into local output files, reporting progress through a callback.
"""
