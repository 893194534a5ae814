"""Title posters: checked and re-encoded with Pillow (in an executor), stored by content hash.

One folder per poster version (`keys.title_image_keys`), named by the upload's hash, so the
bytes at a key never change and CDNs and browsers may keep them for good: the poster at most
POSTER_BOX, the thumbnail at most THUMB_BOX, both JPEG. URL paths are the keys with a leading
"/", served by the origin under /titles/.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import warnings
from dataclasses import dataclass
from uuid import UUID

from aiohttp import StreamReader
from PIL import Image, ImageOps, UnidentifiedImageError

from streamcore.assets import keys
from streamcore.storage import Storage, StorageError
from streamcore.web.service import BadRequest, PayloadTooLarge, UnsupportedMediaType

MAX_BYTES = 10 * 1024 * 1024
# Decoding a 40-megapixel image takes ~160 MB; anything larger is refused before decoding.
MAX_PIXELS = 40_000_000
POSTER_BOX = (1000, 1500)
THUMB_BOX = (300, 450)
CONTENT_TYPES = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}


class BadImage(BadRequest):
    code = "bad_image"


@dataclass(frozen=True)
class Rendered:
    digest: str
    poster: bytes
    thumbnail: bytes
    width: int
    height: int


def _flatten(image: Image.Image) -> Image.Image:
    """RGB for JPEG: transparency is composited onto white, palettes and CMYK converted."""
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


def _jpeg(image: Image.Image, box: tuple[int, int]) -> bytes:
    copy = image.copy()
    copy.thumbnail(box, Image.Resampling.LANCZOS)
    out = io.BytesIO()
    # Progressive JPEG: a poster shows blurred at once and sharpens as it loads.
    copy.save(out, "JPEG", quality=85, optimize=True, progressive=True)
    return out.getvalue()


def render(data: bytes, declared_format: str) -> Rendered:
    """Check the image and make the poster and the thumbnail. Blocking: run in an executor."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=list(CONTENT_TYPES.values()))
            if image.width * image.height > MAX_PIXELS:
                raise BadImage(f"image: at most {MAX_PIXELS} pixels ({image.width}x{image.height})")
            if image.format != declared_format:
                raise BadImage(f"image: the body is {image.format}, not {declared_format}")
            image.load()
            flat = _flatten(ImageOps.exif_transpose(image))
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise BadImage("image: not a JPEG, PNG or WebP image Pillow can read") from None
    except (OSError, ValueError, SyntaxError) as exc:  # truncated or corrupt data
        raise BadImage(f"image: cannot be decoded ({exc})") from None
    return Rendered(
        digest=hashlib.sha256(data).hexdigest()[:12],
        poster=_jpeg(flat, POSTER_BOX),
        thumbnail=_jpeg(flat, THUMB_BOX),
        width=flat.width,
        height=flat.height,
    )


def declared_format(content_type: str) -> str:
    try:
        return CONTENT_TYPES[content_type.lower()]
    except KeyError:
        raise UnsupportedMediaType(
            f"Content-Type: send the image as {', '.join(CONTENT_TYPES)}"
        ) from None


async def read_limited(content: StreamReader, declared: int | None) -> bytes:
    """The request body, refused with 413 once it exceeds MAX_BYTES (before, if declared)."""
    if declared is not None and declared > MAX_BYTES:
        raise PayloadTooLarge(f"image: at most {MAX_BYTES} bytes")
    chunks, size = [], 0
    while chunk := await content.read(64 * 1024):
        size += len(chunk)
        if size > MAX_BYTES:
            raise PayloadTooLarge(f"image: at most {MAX_BYTES} bytes")
        chunks.append(chunk)
    if not size:
        raise BadImage("image: the body is empty")
    return b"".join(chunks)


async def render_in_executor(data: bytes, declared: str) -> Rendered:
    return await asyncio.get_running_loop().run_in_executor(None, render, data, declared)


async def store(
    storage: Storage, bucket: str, title_id: UUID, rendered: Rendered
) -> dict[str, str]:
    """Put the poster and the thumbnail in their folder; their keys by role ("poster",
    "thumbnail"). On failure, leave nothing behind."""
    image_keys = keys.title_image_keys(title_id, rendered.digest)
    data = {"poster": rendered.poster, "thumbnail": rendered.thumbnail}
    try:
        for role, key in image_keys.items():
            await storage.put_bytes(bucket, key, data[role], content_type="image/jpeg")
    except BaseException:
        with contextlib.suppress(StorageError):
            await storage.delete_prefix(bucket, keys.title_image_prefix(title_id, rendered.digest))
        raise
    return image_keys
