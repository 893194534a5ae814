"""Source fallback inside the manifests: HLS and DASH content steering.

The packaged manifests are the same for every source; the origin adds, as it serves them:
- to a master playlist, `EXT-X-CONTENT-STEERING` naming the API's steering manifest. That
  manifest clones the default pathway once per path-token source by host, so a player moves
  to the next source, same path and token, when one fails;
- to an MPD requested with a path token, one `BaseURL` per source (with `serviceLocation`)
  carrying that token, and a `ContentSteering` element. Such an MPD is the viewer's own: it is
  marked private so that no shared cache keeps it.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from uuid import UUID

from streamcore.settings import Settings, path_token_sources

DASH_NS = "urn:mpeg:dash:schema:mpd:2011"


def steering_uri(settings: Settings, asset_id: UUID, kind: str) -> str:
    return f"{settings.catalog_api.base_url}/v1/assets/{asset_id}/steering/{kind}"


def add_hls_steering(text: str, server_uri: str) -> str:
    tag = f'#EXT-X-CONTENT-STEERING:SERVER-URI="{server_uri}",PATHWAY-ID="."'
    lines = text.splitlines()
    # After the header tags (EXTM3U, VERSION, INDEPENDENT-SEGMENTS), before the variants.
    position = next(
        (
            i
            for i, line in enumerate(lines)
            if line.startswith(("#EXT-X-MEDIA", "#EXT-X-STREAM-INF"))
        ),
        len(lines),
    )
    return "\n".join([*lines[:position], tag, *lines[position:]]) + "\n"


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
