"""Every object-storage key StreamCore writes is named here, and only here.

uploads bucket: uploads/{asset_id}/source{.ext}      the original, never touched by processing
                uploads/{asset_id}/captions/{lang}-{kind}.{vtt|srt}  a caption file as sent
media bucket:   assets/{asset_id}/v{n}/{relative}    one published version of the outputs
                  .../poster/poster_<width>.jpg      its posters, one per width (and .webp)
                  .../subtitles/{lang}-{kind}/...    a caption track: index.m3u8, seg_*.vtt,
                                                     and {lang}-{kind}.vtt, the whole file
                titles/{title_id}/{sha12}/poster.jpg a title's poster, by content
                titles/{title_id}/{sha12}/thumb.jpg  and its thumbnail

URL paths are these keys with a leading "/". The packager, a leaf that imports nothing of
ours, writes the posters' files (packager/images.py); what their names mean is read here.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any
from uuid import UUID

_EXTENSION = re.compile(r"^\.[a-z0-9]{1,10}$")
_VERSION_DIR = re.compile(r"^v(\d+)/$")
_POSTER_JPEG = re.compile(r"^poster_(\d+)\.jpg$")
# A title's image set: role -> file name in the set's folder.
TITLE_IMAGE_FILES = {"poster": "poster.jpg", "thumbnail": "thumb.jpg"}


def upload_prefix(asset_id: UUID) -> str:
    return f"uploads/{asset_id}/"


def source_key(asset_id: UUID, filename: str) -> str:
    """The source's key; only a short, plain extension of the user's filename is kept."""
    suffix = PurePosixPath(filename).suffix.lower()
    return f"{upload_prefix(asset_id)}source{suffix if _EXTENSION.match(suffix) else ''}"


CAPTION_EXTENSIONS = {"webvtt": "vtt", "srt": "srt"}
SUBTITLES_FOLDER = "subtitles/"


def caption_name(language: str, kind: str) -> str:
    """A caption track's name, in its keys and in the manifests: ``fr-subtitles``."""
    return f"{language.lower()}-{kind}"


def caption_source_key(asset_id: UUID, language: str, kind: str, file_format: str) -> str:
    """Where a caption file is kept as sent (the uploads bucket)."""
    extension = CAPTION_EXTENSIONS[file_format]
    return f"{upload_prefix(asset_id)}captions/{caption_name(language, kind)}.{extension}"


def asset_prefix(asset_id: UUID) -> str:
    return f"assets/{asset_id}/"


def version_prefix(asset_id: UUID, version: int) -> str:
    if version < 1:
        raise ValueError("versions start at 1")
    return f"{asset_prefix(asset_id)}v{version}/"


def output_key(asset_id: UUID, version: int, relative: str) -> str:
    path = PurePosixPath(relative)
    if path.is_absolute() or ".." in path.parts or not relative:
        raise ValueError(f"not a relative output path: {relative!r}")
    return version_prefix(asset_id, version) + str(path)


def version_of(asset_id: UUID, key: str) -> int | None:
    """The version number a key under the asset's prefix belongs to, if any."""
    rest = key.removeprefix(asset_prefix(asset_id))
    match = _VERSION_DIR.match(rest.split("/", 1)[0] + "/") if "/" in rest else None
    return int(match[1]) if match else None


def poster_width(relative: str) -> int | None:
    """The width of a published JPEG poster from its name (poster/poster_640.jpg: 640)."""
    match = _POSTER_JPEG.match(PurePosixPath(relative).name)
    return int(match[1]) if match else None


def _jpeg_posters(images: Mapping[str, Any]) -> dict[str, int]:
    posters = (p for p in images.get("posters", []) if isinstance(p, str))
    return {p: width for p in posters if (width := poster_width(p)) is not None}


def widest_poster(images: Mapping[str, Any]) -> str | None:
    """The widest JPEG among an asset's published images (relative to its version folder)."""
    jpegs = _jpeg_posters(images)
    return max(jpegs, key=jpegs.__getitem__) if jpegs else None


# A published version's layout, as the packager writes it (docs/pipeline.md, "Output layout"):
# the manifests at its root, one folder per video rendition, and the folders every rendition
# shares (the audio, the posters, the storyboard). What a rendition-limited playback token
# opens (streamcore/signing.py) is decided from these names alone.
MANIFEST_FILES = ("master.m3u8", "manifest.mpd")
RENDITIONS_FOLDER = "video/"
SHARED_FOLDERS = ("audio/", "poster/", "storyboard/", SUBTITLES_FOLDER)


def rendition_folder(name: str) -> str:
    """video/{name}/: one video rendition's init segment, segments and playlists."""
    return f"{RENDITIONS_FOLDER}{name}/"


def rendition_of(relative: str) -> str | None:
    """The rendition a path relative to a version folder belongs to (video/720p/x: 720p)."""
    if not relative.startswith(RENDITIONS_FOLDER):
        return None
    name, slash, rest = relative.removeprefix(RENDITIONS_FOLDER).partition("/")
    return name if name and slash and rest else None


def shared_by_renditions(relative: str) -> bool:
    """The manifests, and files of no one rendition (audio, posters, storyboard)."""
    return relative in MANIFEST_FILES or (
        relative.startswith(SHARED_FOLDERS) and relative not in SHARED_FOLDERS
    )


def asset_image_paths(asset_id: UUID, version: int, images: Mapping[str, Any]) -> dict[str, str]:
    """URL paths of a published asset's widest JPEG poster, and its narrowest as thumbnail."""
    jpegs = _jpeg_posters(images)
    if version < 1 or not jpegs:
        return {}
    folder = "/" + version_prefix(asset_id, version)
    return {
        "poster": folder + max(jpegs, key=jpegs.__getitem__),
        "thumbnail": folder + min(jpegs, key=jpegs.__getitem__),
    }


def display_filename(raw: str) -> str:
    """A filename safe to store and show: no folders, no control characters, not empty."""
    base = re.split(r"[\\/]", raw)[-1]
    cleaned = "".join(
        c for c in unicodedata.normalize("NFC", base) if unicodedata.category(c)[0] != "C"
    )
    cleaned = cleaned.strip().lstrip(".")
    return cleaned[:255] or "upload"


def title_prefix(title_id: UUID) -> str:
    return f"titles/{title_id}/"


def title_image_prefix(title_id: UUID, digest: str) -> str:
    """One set of a title's images, named by their content: a new poster is a new folder."""
    return f"{title_prefix(title_id)}{digest}/"


def title_image_keys(title_id: UUID, digest: str) -> dict[str, str]:
    """role ("poster", "thumbnail") -> key of one set of a title's images."""
    folder = title_image_prefix(title_id, digest)
    return {role: folder + name for role, name in TITLE_IMAGE_FILES.items()}


def title_image_folder(path: str) -> str:
    """/titles/{id}/{sha12}/poster.jpg -> titles/{id}/{sha12}/ (the key prefix of that set)."""
    return path.lstrip("/").rsplit("/", 1)[0] + "/"
