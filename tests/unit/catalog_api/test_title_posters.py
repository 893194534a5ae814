"""Posters: checked, flattened and re-encoded as a JPEG poster and thumbnail."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from catalog_api.titles import images
from streamcore.assets import keys


def encoded(kind: str, size: tuple[int, int], mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    colour = (200, 30, 30, 0) if mode == "RGBA" else "blue"
    Image.new(mode, size, colour).save(out, kind)
    return out.getvalue()


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


@pytest.mark.parametrize(
    ("kind", "size", "poster", "thumb"),
    [
        ("JPEG", (2000, 3000), (1000, 1500), (300, 450)),
        ("PNG", (400, 600), (400, 600), (300, 450)),
        ("WEBP", (1920, 1080), (1000, 563), (300, 169)),
    ],
)
def test_each_format_becomes_a_jpeg_poster_and_thumbnail(
    kind: str, size: tuple[int, int], poster: tuple[int, int], thumb: tuple[int, int]
) -> None:
    data = encoded(kind, size)
    rendered = images.render(data, kind)
    assert opened(rendered.poster).size == poster and opened(rendered.poster).format == "JPEG"
    assert opened(rendered.thumbnail).size == thumb
    assert rendered.digest == images.render(data, kind).digest and len(rendered.digest) == 12


def test_transparency_is_composited_on_white() -> None:
    rendered = images.render(encoded("PNG", (50, 50), "RGBA"), "PNG")
    assert opened(rendered.poster).getpixel((25, 25)) == pytest.approx((255, 255, 255), abs=3)


@pytest.mark.parametrize(
    ("data", "declared", "message"),
    [
        (b"plain text", "JPEG", "not a JPEG, PNG or WebP"),
        (encoded("PNG", (10, 10)), "JPEG", "is PNG, not JPEG"),
        (encoded("JPEG", (100, 100))[:200], "JPEG", "cannot be decoded"),
        (encoded("GIF", (10, 10)), "PNG", "not a JPEG, PNG or WebP"),
    ],
)
def test_bad_images_are_400(data: bytes, declared: str, message: str) -> None:
    with pytest.raises(images.BadImage, match=message) as caught:
        images.render(data, declared)
    assert caught.value.status == 400 and caught.value.code == "bad_image"


def test_huge_images_are_refused_before_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(images, "MAX_PIXELS", 100 * 100)
    with pytest.raises(images.BadImage, match="pixels"):
        images.render(encoded("PNG", (101, 100)), "PNG")


def test_content_types_and_keys() -> None:
    assert images.declared_format("IMAGE/PNG") == "PNG"
    with pytest.raises(images.UnsupportedMediaType):
        images.declared_format("image/gif")
    folder = keys.title_image_folder("/titles/abc/0123456789ab/poster.jpg")
    assert folder == "titles/abc/0123456789ab/"
