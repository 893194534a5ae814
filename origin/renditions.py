"""A viewer's manifests list only the renditions their playback token opens.

A rendition-limited token (``only``, streamcore/signing.py) opens the folders of the renditions
the viewer's plan allows; the origin serves the packaged master playlist and MPD with the other
renditions taken out, before it adds the pathways (origin/steering.py), so that a player never
sees, and never tries, a variant whose segments it would be refused:

- HLS: each ``EXT-X-STREAM-INF`` with its URI line, and each ``EXT-X-I-FRAME-STREAM-INF`` /
  ``EXT-X-MEDIA`` whose URI lies in another rendition's folder; the audio and everything
  else stay as they are;
- DASH: each ``Representation`` whose segment template names another rendition's files, an
  ``AdaptationSet`` left without one, and the video set's ``maxWidth`` / ``maxHeight`` /
  ``maxFrameRate`` recomputed from what is left.

Which rendition a URI belongs to is read from the published layout (streamcore/assets/keys.py),
the same reading the token check makes. A manifest left without any video variant is refused:
the token opens nothing playable in it.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from fractions import Fraction

from streamcore.assets.keys import rendition_of
from streamcore.signing import RenditionNotAllowed

DASH_NS = "urn:mpeg:dash:schema:mpd:2011"
_URI = re.compile(r'(?<![A-Z-])URI="([^"]*)"')


def _kept(uri: str, only: frozenset[str]) -> bool:
    rendition = rendition_of(uri.split("?", 1)[0])
    return rendition is None or rendition in only


def filter_master(text: str, only: frozenset[str]) -> str:
    """The HLS master playlist with only the variants of `only` (and all shared renditions)."""
    out: list[str] = []
    variants, pending = 0, None
    for line in text.splitlines():
        if pending is not None:
            if not line.strip() or line.startswith("#"):  # tags between a variant and its URI
                pending.append(line)
                continue
            if _kept(line.strip(), only):
                out.extend([*pending, line])
                variants += 1
            pending = None
        elif line.startswith("#EXT-X-STREAM-INF:"):
            pending = [line]
        elif line.startswith(("#EXT-X-I-FRAME-STREAM-INF:", "#EXT-X-MEDIA:")):
            uri = _URI.search(line)
            if uri is None or _kept(uri[1], only):
                out.append(line)
        else:
            out.append(line)
    if variants == 0:
        raise RenditionNotAllowed("the token opens none of this playlist's renditions")
    return "\n".join(out) + "\n"


def _q(tag: str) -> str:
    return f"{{{DASH_NS}}}{tag}"


def _representation_rendition(adaptation: ET.Element, representation: ET.Element) -> str | None:
    """The rendition a Representation's files belong to: from its own segment template, or
    the one its AdaptationSet gives every Representation (``$RepresentationID$`` expanded)."""
    templates = [
        *representation.findall(_q("SegmentTemplate")),
        *adaptation.findall(_q("SegmentTemplate")),
    ]
    for template in templates:
        for attribute in ("initialization", "media"):
            value = template.get(attribute, "").replace(
                "$RepresentationID$", representation.get("id", "")
            )
            if name := rendition_of(value):
                return name
    return None


def _refresh_maxima(adaptation: ET.Element) -> None:
    kept = adaptation.findall(_q("Representation"))
    for attribute, limit in (("width", "maxWidth"), ("height", "maxHeight")):
        values = [int(r.get(attribute, "0")) for r in kept if r.get(attribute)]
        if values and adaptation.get(limit) is not None:
            adaptation.set(limit, str(max(values)))
    rates = [Fraction(r.get("frameRate", "")) for r in kept if r.get("frameRate")]
    if rates and adaptation.get("maxFrameRate") is not None:
        top = max(rates)
        adaptation.set("maxFrameRate", str(top.numerator if top.denominator == 1 else top))


def filter_mpd(text: str, only: frozenset[str]) -> str:
    """The MPD with only the video Representations of `only` (and every shared one)."""
    ET.register_namespace("", DASH_NS)
    root = ET.fromstring(text)  # noqa: S314 (our own published MPD, not user input)
    videos = 0
    for period in root.iter(_q("Period")):
        for adaptation in period.findall(_q("AdaptationSet")):
            for representation in adaptation.findall(_q("Representation")):
                name = _representation_rendition(adaptation, representation)
                if name is not None and name not in only:
                    adaptation.remove(representation)
                elif name is not None:
                    videos += 1
            if not adaptation.findall(_q("Representation")):
                period.remove(adaptation)
            else:
                _refresh_maxima(adaptation)
    if videos == 0:
        raise RenditionNotAllowed("the token opens none of this MPD's renditions")
    return ET.tostring(root, encoding="unicode", xml_declaration=True)
