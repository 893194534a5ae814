"""Replacing a title's poster: render, store by content, point the row at it, then clean up.

The files are stored before the row names them, and the previous set is purged and deleted
only after the commit (effects.py): a reader never gets a path with nothing behind it.
"""

from __future__ import annotations

import logging
import uuid
from uuid import UUID

from aiohttp import StreamReader, web

from catalog_api.resources import DB_KEY, STORAGE_KEY
from catalog_api.titles import images, queries, writes
from catalog_api.titles.effects import TitleChange, after_title_write
from streamcore.assets import keys
from streamcore.web.service import SETTINGS_KEY, NotFound

log = logging.getLogger(__name__)


async def replace_poster(
    app: web.Application,
    actor: str | None,
    title_id: UUID,
    declared: str,
    body: StreamReader,
    length: int | None,
) -> None:
    """`body` (of the `declared` format, `length` bytes if known) as the title's poster."""
    exists, current = await queries.poster_path(app[DB_KEY].primary, title_id)
    if not exists:  # before reading the body: an unknown title costs no upload
        raise NotFound(f"no title with id {title_id}")
    data = await images.read_limited(body, length)
    rendered = await images.render_in_executor(data, declared)
    folder = keys.title_image_prefix(title_id, rendered.digest)
    if current and keys.title_image_folder(current) == folder:
        return  # the same image again
    storage, bucket = app[STORAGE_KEY], app[SETTINGS_KEY].s3.media_bucket
    stored = await images.store(storage, bucket, title_id, rendered)
    result = await writes.set_poster(
        app[DB_KEY].primary, title_id, f"/{stored['poster']}", f"/{stored['thumbnail']}"
    )
    if result is None:  # deleted meanwhile: what was just stored is nobody's
        await storage.delete_prefix(bucket, folder)
        raise NotFound(f"no title with id {title_id}")
    written, previous = result
    old_folders = sorted({keys.title_image_folder(p) for p in previous} - {folder})
    change = TitleChange(
        title_ids=written.documents,
        purge_paths=tuple(f"/{f}" for f in old_folders),
        delete_prefixes=tuple(old_folders),
        # Unique per change (a poster may come back later), fixed for the task's retries.
        reference=f"title:{title_id}:poster:{rendered.digest}:{uuid.uuid4().hex[:8]}",
    )
    await after_title_write(app, actor, change)
    log.info("title %s: poster %s (%dx%d)", title_id, rendered.digest, rendered.width,
             rendered.height)  # fmt: skip
