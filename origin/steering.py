"""Source fallback inside the manifests: HLS and DASH content steering.

The packaged manifests are the same for every source; the origin adds, as it serves them:
- to a master playlist requested with a path token, one pathway per path-token source (the
  local edges, then the origin): every variant, I-frame variant and rendition repeated with
  an absolute URI carrying the viewer's token, a `PATHWAY-ID`, a `STABLE-VARIANT-ID` (or
  `STABLE-RENDITION-ID`) shared across pathways, and rendition groups of its own (a GROUP-ID
  names one pathway's groups, which is how players attribute an audio failure to a pathway);
  and `EXT-X-CONTENT-STEERING` naming the streaming service's steering manifest, which orders
  the pathways.
  A player that fails on one pathway moves to the next by itself, at the same position;
- to a master requested with a query token (a CDN that signs its own URLs), only the
  steering tag, with the manifest's single default pathway ".";
- to an MPD requested with a path token, one `BaseURL` per source (with `serviceLocation`)
  carrying that token, and a `ContentSteering` element.
A manifest that carries the viewer's token is the viewer's own: it is marked private, so that
no shared cache (the edge keys its cache by the path without the token) hands it to another.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from uuid import UUID

from streamcore.settings import Settings, path_token_sources

DASH_NS = "urn:mpeg:dash:schema:mpd:2011"


def steering_uri(settings: Settings, asset_id: UUID, kind: str) -> str:
    """The streaming service's steering manifest, as players reach it: through the gateway,
    which routes /v1/playback to the streaming service (streaming/playback.py)."""
    return f"{settings.gateway.entry_url}/v1/playback/{asset_id}/steering/{kind}"


# Tags that describe the renditions and variants: everything from the first of them on is
# repeated once per pathway; what comes before (EXTM3U, VERSION, INDEPENDENT-SEGMENTS,
# START, DEFINE...) is the playlist's header.
_BODY_TAGS = ("#EXT-X-MEDIA:", "#EXT-X-STREAM-INF:", "#EXT-X-I-FRAME-STREAM-INF:")
_URI = re.compile(r'URI="([^"]*)"')
_GROUP_ATTRIBUTES = re.compile(r'\b(GROUP-ID|AUDIO|SUBTITLES|CLOSED-CAPTIONS|VIDEO)="([^"]*)"')
# STABLE-VARIANT-ID and STABLE-RENDITION-ID allow only these characters.
_UNSTABLE_CHARACTERS = re.compile(r"[^A-Za-z0-9._-]")


def _steering_tag(server_uri: str, pathway: str) -> str:
    return f'#EXT-X-CONTENT-STEERING:SERVER-URI="{server_uri}",PATHWAY-ID="{pathway}"'


def _split_header(lines: list[str]) -> int:
    return next((i for i, line in enumerate(lines) if line.startswith(_BODY_TAGS)), len(lines))


def add_hls_steering(text: str, server_uri: str) -> str:
    """The steering tag alone, for a master whose URIs must stay as they are (query tokens)."""
    lines = text.splitlines()
    position = _split_header(lines)
    return "\n".join([*lines[:position], _steering_tag(server_uri, "."), *lines[position:]]) + "\n"


def _stable_id(uri: str) -> str:
    """video/720p/index.m3u8 -> video.720p.index: names one rendition on every pathway."""
    path = uri.split("?", 1)[0].removesuffix(".m3u8")
    return _UNSTABLE_CHARACTERS.sub("_", path.replace("/", "."))


def _pathway_lines(body: list[str], pathway: str, prefix: str) -> list[str]:
    def group(match: re.Match[str]) -> str:
        return f'{match[1]}="{match[2]}-{pathway}"'

    out: list[str] = []
    uri_line_follows = False
    for line in body:
        if line.startswith(("#EXT-X-MEDIA:", "#EXT-X-I-FRAME-STREAM-INF:")):
            uri = _URI.search(line)
            line = _GROUP_ATTRIBUTES.sub(group, line)
            if uri is not None:
                line = _URI.sub(lambda m: f'URI="{prefix}{m[1]}"', line)
                stable = (
                    "STABLE-RENDITION-ID"
                    if line.startswith("#EXT-X-MEDIA:")
                    else ("STABLE-VARIANT-ID")
                )
                line += f',{stable}="{_stable_id(uri[1])}"'
            if line.startswith("#EXT-X-I-FRAME-STREAM-INF:"):
                line += f',PATHWAY-ID="{pathway}"'
            out.append(line)
        elif line.startswith("#EXT-X-STREAM-INF:"):
            out.append(_GROUP_ATTRIBUTES.sub(group, line) + f',PATHWAY-ID="{pathway}"')
            uri_line_follows = True
        elif uri_line_follows and line and not line.startswith("#"):
            out[-1] += f',STABLE-VARIANT-ID="{_stable_id(line)}"'
            out.append(prefix + line)
            uri_line_follows = False
    return out


def add_hls_pathways(
    text: str, settings: Settings, token: str, folder: str, server_uri: str
) -> str:
    """One pathway per path-token source, each with absolute URIs carrying `token`.

    `folder` is /assets/{id}/v{n}/; the packaged master's URIs are relative to it.
    """
    lines = text.splitlines()
    position = _split_header(lines)
    body = lines[position:]
    # Other tags among the variants (session data, say) apply once to the whole playlist.
    variant_uris = {i + 1 for i, line in enumerate(body) if line.startswith("#EXT-X-STREAM-INF:")}
    once = [
        line
        for i, line in enumerate(body)
        if line and not line.startswith(_BODY_TAGS) and i not in variant_uris
    ]
    sources = path_token_sources(settings)
    out = [*lines[:position], *once, _steering_tag(server_uri, sources[0][0])]
    for name, base in sources:
        out.extend(_pathway_lines(body, name, f"{base}/t/{token}{folder}"))
    return "\n".join(out) + "\n"


def add_dash_sources(
    text: str, settings: Settings, token: str, folder: str, server_uri: str
) -> str:
    """BaseURLs for each path-token source (`folder` is /assets/{id}/v{n}/) and steering."""
    ET.register_namespace("", DASH_NS)
    root = ET.fromstring(text)  # noqa: S314 (our own published MPD, not user input)
    sources = path_token_sources(settings)
    first_period = next(i for i, child in enumerate(root) if child.tag == f"{{{DASH_NS}}}Period")
    elements = []
    for name, base in sources:
        element = ET.Element(f"{{{DASH_NS}}}BaseURL", {"serviceLocation": name})
        element.text = f"{base}/t/{token}{folder}"
        elements.append(element)
    steering = ET.Element(
        f"{{{DASH_NS}}}ContentSteering",
        {"defaultServiceLocation": sources[0][0], "queryBeforeStart": "false"},
    )
    steering.text = server_uri
    elements.append(steering)
    for offset, element in enumerate(elements):
        root.insert(first_period + offset, element)
    return ET.tostring(root, encoding="unicode", xml_declaration=True)
