"""Poster images and the storyboard (sprite sheets + WebVTT), written with Pillow.

    poster/poster_<width>.jpg and .webp     one pair per width, never wider than the source
    storyboard/sprite_001.jpg, ...          columns x rows thumbnails per sheet
    storyboard/storyboard.vtt               time range -> sprite_001.jpg#xywh=x,y,w,h

The VTT's URIs are relative to the VTT itself, so a signed path prefix carries over.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PIL import Image

POSTER_DIR = "poster"
STORYBOARD_DIR = "storyboard"
VTT_NAME = "storyboard.vtt"
JPEG_QUALITY = 85
WEBP_QUALITY = 80


def write_posters(frame: Path, out_dir: Path, widths: Sequence[int]) -> list[Path]:
    """The poster at each width not above the frame's own (or at its own if all are)."""
    folder = out_dir / POSTER_DIR
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    with Image.open(frame) as opened:
        image = opened.convert("RGB")
    fitting = sorted({width for width in widths if width <= image.width}) or [image.width]
    for width in fitting:
        height = max(1, round(image.height * width / image.width))
        resized = (
            image
            if width == image.width
            else image.resize((width, height), Image.Resampling.LANCZOS)
        )
        jpeg = folder / f"poster_{width}.jpg"
        resized.save(jpeg, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
        webp = folder / f"poster_{width}.webp"
        resized.save(webp, "WEBP", quality=WEBP_QUALITY)
        written += [jpeg, webp]
    return written


def write_storyboard(
    thumbnails: Sequence[Path],
    out_dir: Path,
    *,
    interval_s: float,
    duration_s: float,
    columns: int,
    rows: int,
) -> list[Path]:
    """Sprite sheets of the thumbnails (thumbnail k at (k - 1) * interval_s) and the VTT."""
    folder = out_dir / STORYBOARD_DIR
    folder.mkdir(parents=True, exist_ok=True)
    with Image.open(thumbnails[0]) as first:
        tile = first.size
    per_sheet = columns * rows
    cues: list[str] = []
    written = []
    for first_index in range(0, len(thumbnails), per_sheet):
        path = folder / f"sprite_{first_index // per_sheet + 1:03d}.jpg"
        batch = thumbnails[first_index : first_index + per_sheet]
        for position, (x, y) in enumerate(_write_sheet(batch, path, tile, columns)):
            begin = (first_index + position) * interval_s
            end = min(begin + interval_s, duration_s)
            cues.append(
                f"{_timestamp(begin)} --> {_timestamp(end)}\n"
                f"{path.name}#xywh={x},{y},{tile[0]},{tile[1]}"
            )
        written.append(path)
    vtt = folder / VTT_NAME
    vtt.write_text("WEBVTT\n\n" + "\n\n".join(cues) + "\n")
    return [*written, vtt]


def _write_sheet(
    batch: Sequence[Path], path: Path, tile: tuple[int, int], columns: int
) -> list[tuple[int, int]]:
    """Tile `batch` row by row into one JPEG; returns each tile's top-left corner."""
    tile_w, tile_h = tile
    rows = -(-len(batch) // columns)
    sheet = Image.new("RGB", (tile_w * min(columns, len(batch)), tile_h * rows))
    corners = []
    for position, thumbnail in enumerate(batch):
        corner = ((position % columns) * tile_w, (position // columns) * tile_h)
        with Image.open(thumbnail) as image:
            sheet.paste(image.convert("RGB").resize(tile), corner)
        corners.append(corner)
    sheet.save(path, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return corners


def _timestamp(seconds: float) -> str:
    millis = round(seconds * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"
