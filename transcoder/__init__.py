"""The transcoder: probes a source, plans the ladder and runs FFmpeg.

A leaf package: no aiohttp, no database, no storage. It turns a local source file and a typed
job spec into local output files, reporting progress through a callback.

- `probe`: what the source is (PyAV), or a `ProbeError` with a stable reason;
- `ladder` (+ `levels`): the typed ladder config and the per-source plan;
- `ffmpeg_args`: every FFmpeg command line, and nowhere else; `layout`: where tracks go;
- `runner`: the one way FFmpeg is run; `encode`: the ladder and frame extraction.
"""
