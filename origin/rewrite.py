"""Query-string token mode: add the request's query to every URI inside a manifest.

In path mode nothing is rewritten (relative URIs inherit the token from the path). In query
mode a client resolving `video/720p/index.m3u8` against `.../master.m3u8?token=T` would drop
the query, so each URI the manifest carries gets the query appended: our token, and with it
any CDN's own signature parameters (CloudFront's Policy/Signature/Key-Pair-Id, say).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

# URI="..." but not SERVER-URI="...": the steering manifest is the streaming service's, not ours
# to sign.
_URI_ATTRIBUTE = re.compile(r'(?<![A-Z-])URI="([^"]*)"')
_DASH_NS = "urn:mpeg:dash:schema:mpd:2011"
# MPD attributes that hold URLs or URL templates. BaseURLs are left alone: they are joined with
# the templates, which carry the token themselves.
_DASH_URL_ATTRIBUTES = ("media", "initialization", "sourceURL", "href")


def _with_query(uri: str, query: str) -> str:
    if uri.startswith(("data:", "skd:")) or not uri:
        return uri
    return f"{uri}{'&' if '?' in uri else '?'}{query}"


def rewrite_playlist(text: str, query: str) -> str:
    lines = []
    for line in text.splitlines():
        if line.startswith("#"):
            line = _URI_ATTRIBUTE.sub(lambda m: f'URI="{_with_query(m[1], query)}"', line)
        elif line.strip():
            line = _with_query(line.strip(), query)
        lines.append(line)
    return "\n".join(lines) + "\n"


def rewrite_mpd(text: str, query: str) -> str:
    ET.register_namespace("", _DASH_NS)
    root = ET.fromstring(text)  # noqa: S314 (our own published MPD, not user input)
    for element in root.iter():
        for attribute in _DASH_URL_ATTRIBUTES:
            if attribute in element.attrib:
                element.set(attribute, _with_query(element.attrib[attribute], query))
    return ET.tostring(root, encoding="unicode", xml_declaration=True)


def rewrite_vtt(text: str, query: str) -> str:
    """Storyboard cues reference sprites as `sprite_001.jpg#xywh=...`."""
    out = []
    for line in text.splitlines():
        if "#xywh=" in line and "-->" not in line:
            uri, _, fragment = line.partition("#")
            line = f"{_with_query(uri, query)}#{fragment}"
        out.append(line)
    return "\n".join(out) + "\n"
