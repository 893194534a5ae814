"""The packager: describes CMAF segments twice, as HLS playlists and a DASH MPD, plus images.

A leaf package like `transcoder/`: local files in, local files out; no aiohttp.

- `boxes`, `bmff`: read ISO-BMFF init and media segments back (codec strings, timing, keyframes);
- `tracks`: the measured tracks both writers describe; `hls`, `dash`: the writers;
- `package`: both manifests at once; `images`: posters and the storyboard;
- `captions` (with `caption_parse`, `caption_cues`): WebVTT and SRT read, checked (errors name
  the line) and written back as WebVTT; `subtitles`: caption tracks cut along the video's
  segments, and the master playlist and MPD edited to name them.
"""
