"""The packager: describes CMAF segments twice, as HLS playlists and a DASH MPD, plus images.

A leaf package like `transcoder/`: local files in, local files out; no aiohttp.
"""
