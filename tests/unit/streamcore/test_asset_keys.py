"""Image names in storage keys: the published posters' and the titles' own."""

from __future__ import annotations

import uuid
from pathlib import Path

from PIL import Image

from packager.images import write_posters
from streamcore.assets import keys

ASSET = uuid.UUID("3f2c0b5e-7a41-4c1e-9d7e-5b8f1e2a9c10")
TITLE = uuid.UUID("5b1f6e2c-9d7a-4c3e-8f1a-2b6d0e9c7a41")


def test_the_names_the_packager_writes_are_the_names_keys_reads(tmp_path: Path) -> None:
    frame = tmp_path / "frame.png"
    Image.new("RGB", (1000, 562), (20, 40, 60)).save(frame)
    written = write_posters(frame, tmp_path / "out", (320, 640, 1280))
    relative = [str(p.relative_to(tmp_path / "out")) for p in written]
    widths = {p: keys.poster_width(p) for p in relative}
    # 1280 is wider than the frame: never upscaled. WebP copies are not JPEG posters.
    assert {w for p, w in widths.items() if p.endswith(".jpg")} == {320, 640}
    assert all(w is None for p, w in widths.items() if p.endswith(".webp"))
    images = {"posters": relative}
    assert keys.widest_poster(images) == "poster/poster_640.jpg"
    assert keys.asset_image_paths(ASSET, 4, images) == {
        "poster": f"/assets/{ASSET}/v4/poster/poster_640.jpg",
        "thumbnail": f"/assets/{ASSET}/v4/poster/poster_320.jpg",
    }


def test_odd_image_lists_have_no_poster() -> None:
    for images in ({}, {"posters": []}, {"posters": ["poster/poster_x.jpg", "poster/a.jpg"]}):
        assert keys.widest_poster(images) is None
        assert keys.asset_image_paths(ASSET, 1, images) == {}


def test_a_titles_images_are_one_folder_named_by_content() -> None:
    image_keys = keys.title_image_keys(TITLE, "0123456789ab")
    assert image_keys == {
        "poster": f"titles/{TITLE}/0123456789ab/poster.jpg",
        "thumbnail": f"titles/{TITLE}/0123456789ab/thumb.jpg",
    }
    folders = {keys.title_image_folder("/" + key) for key in image_keys.values()}
    assert folders == {keys.title_image_prefix(TITLE, "0123456789ab")}
