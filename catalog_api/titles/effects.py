"""What follows a committed title write, in one place: `after_title_write`.

Called only after the transaction committed, so that a rolled-back change never purges a CDN
or deletes a file that the database still names.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from uuid import UUID

from aiohttp import web

from catalog_api.resources import CACHE_KEY, DB_KEY, STORAGE_KEY, enqueue
from streamcore.cache import catalog_cache
from streamcore.storage import StorageError
from streamcore.tasks.queue import TaskName
from streamcore.web.service import SETTINGS_KEY, ServiceUnavailable

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TitleChange:
    """What a committed write changed."""

    # Titles whose documents changed: the written ones, and the series of a written episode
    # (a series' document lists its episodes). Every write may change any list page.
    title_ids: frozenset[UUID]
    # CDN paths no longer in use (folders end in "/"), purged from every CDN by a retried task.
    purge_paths: tuple[str, ...] = ()
    # Media-bucket folders no longer in use, deleted after the purge is enqueued.
    delete_prefixes: tuple[str, ...] = ()
    # Names the purge: the same change purges once, however often its task is retried.
    reference: str = field(default="")


async def after_title_write(app: web.Application, actor: str | None, change: TitleChange) -> None:
    """Read-your-writes, then the cache, then the CDNs, then storage, in that order.

    Failures here are logged, not raised: the write has committed, and what is left behind is
    harmless (an old image still cached at a CDN until it expires, an orphan object).
    """
    app[DB_KEY].wrote(actor)
    # The written titles' documents, and every list page (any write may move a title in or
    # out of any page). Before the purge, so that no response handed out after it names a
    # purged path; again once replicas have replayed the write (a fill in between may have
    # read one still behind it).
    settings = app[SETTINGS_KEY]
    await app[CACHE_KEY].bump_generation(
        *(catalog_cache.title(title_id) for title_id in change.title_ids),
        catalog_cache.TITLES,
        repeat_after_s=settings.postgres.replica_max_lag_s if settings.postgres_replica_dsns else 0,
    )
    if change.purge_paths:
        try:
            await enqueue(app, TaskName.PURGE_CDN, list(change.purge_paths), change.reference)
        except ServiceUnavailable as exc:
            log.error("CDN purge %s not enqueued (%s): %s", change.reference, exc,
                      list(change.purge_paths))  # fmt: skip
    bucket = settings.s3.media_bucket
    for prefix in change.delete_prefixes:
        try:
            removed = await app[STORAGE_KEY].delete_prefix(bucket, prefix)
            log.info("deleted %d object(s) under %s", removed, prefix)
        except StorageError as exc:
            log.warning("could not delete %s (left as an orphan): %s", prefix, exc)
