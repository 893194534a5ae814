from __future__ import annotations

import re
from pathlib import Path

from PIL import Image

from packager.images import write_posters, write_storyboard


def picture(path: Path, size: tuple[int, int], colour: tuple[int, int, int]) -> Path:
    Image.new("RGB", size, colour).save(path)
    return path


def test_posters_at_each_width_never_wider_than_the_frame(tmp_path: Path) -> None:
    frame = picture(tmp_path / "frame.png", (854, 480), (200, 30, 30))
    written = write_posters(frame, tmp_path / "out", [320, 640, 1280])
    names = sorted(p.relative_to(tmp_path / "out").as_posix() for p in written)
    assert names == [
        "poster/poster_320.jpg",
        "poster/poster_320.webp",
        "poster/poster_640.jpg",
        "poster/poster_640.webp",
    ]
    for path in written:
        with Image.open(path) as image:
            assert image.format == ("JPEG" if path.suffix == ".jpg" else "WEBP")
            width = int(path.stem.split("_")[1])
            assert image.size == (width, round(480 * width / 854))


def test_a_frame_narrower_than_every_width_keeps_its_own(tmp_path: Path) -> None:
    frame = picture(tmp_path / "frame.png", (240, 426), (0, 0, 0))
    written = write_posters(frame, tmp_path / "out", [320, 640])
    assert sorted(p.name for p in written) == ["poster_240.jpg", "poster_240.webp"]


def test_storyboard_sprites_and_vtt_map_every_thumbnail(tmp_path: Path) -> None:
    thumbs = [
        picture(tmp_path / f"t{index:02d}.png", (160, 90), (index * 10, 255 - index * 10, 0))
        for index in range(23)
    ]
    written = write_storyboard(
        thumbs, tmp_path / "out", interval_s=2.0, duration_s=45.0, columns=3, rows=3
    )
    assert [p.name for p in written] == [
        "sprite_001.jpg",
        "sprite_002.jpg",
        "sprite_003.jpg",
        "storyboard.vtt",
    ]
    sizes = {}
    for sheet in written[:3]:
        with Image.open(sheet) as image:
            sizes[sheet.name] = image.size
    assert sizes["sprite_001.jpg"] == (480, 270)
    assert sizes["sprite_003.jpg"] == (480, 180)  # 5 thumbnails left: two rows
    vtt = written[3].read_text()
    assert vtt.startswith("WEBVTT\n\n")
    cues = re.findall(
        r"(\d\d:\d\d:\d\d\.\d{3}) --> (\d\d:\d\d:\d\d\.\d{3})\n"
        r"(sprite_\d{3}\.jpg)#xywh=(\d+),(\d+),(\d+),(\d+)",
        vtt,
    )
    assert len(cues) == 23
    assert cues[0] == ("00:00:00.000", "00:00:02.000", "sprite_001.jpg", "0", "0", "160", "90")
    assert cues[10][:3] == ("00:00:20.000", "00:00:22.000", "sprite_002.jpg")
    assert cues[10][3:5] == ("160", "0")
    assert cues[-1][:3] == ("00:00:44.000", "00:00:45.000", "sprite_003.jpg")
    for _, _, sheet, x, y, w, h in cues:
        width, height = sizes[sheet]
        assert int(x) + int(w) <= width and int(y) + int(h) <= height
    # The tile really shows its thumbnail: thumbnail 10 is the second sheet's second tile.
    with Image.open(tmp_path / "out/storyboard/sprite_002.jpg") as sheet_image:
        red, green, _ = sheet_image.convert("RGB").getpixel((160 + 80, 45))
    assert abs(red - 100) < 12 and abs(green - 155) < 12
