"""The stalled-job reaper: processing jobs whose worker died are queued again.

A running job stamps its asset's heartbeat every worker.heartbeat_interval_s (processing.py);
a worker killed with its whole process tree (a host crash, an OOM kill) stops stamping, and
its Celery message is redelivered only after the broker's visibility timeout (hours: above the
longest transcode). The reaper, run every worker.reaper_interval_s by the scheduler on the
control queue, queues every job silent for worker.stall_after_s again under a new job id. The
dead job's message, when it comes back, carries the old id and is skipped; so are its late
writes, should the job turn out to be alive after all.
"""

from __future__ import annotations

import logging

from streamcore.assets import repository
from streamcore.assets.notices import job_notices
from streamcore.assets.states import AssetStatus
from streamcore.db.database import pool_context
from streamcore.db.schemas import Schema
from streamcore.settings import Settings

log = logging.getLogger(__name__)


async def reap_stalled(settings: Settings) -> list[repository.Asset]:
    """Queue every stalled job again; the assets requeued (each with its new job id).

    Idempotent when reapers race: each requeue is guarded by the old job id, so a job is
    requeued once whoever finds it first.
    """
    silent_for_s = settings.worker.stall_after_s
    requeued: list[repository.Asset] = []
    async with (
        pool_context(settings, schema=Schema.CATALOG, min_size=1, max_size=2) as pool,
        job_notices(settings) as notices,
    ):
        for asset_id, job_id in await repository.stalled_jobs(pool, silent_for_s=silent_for_s):
            asset = await repository.requeue(pool, asset_id, job_id, silent_for_s=silent_for_s)
            if asset is None:
                log.info("asset %s: job %s was handled meanwhile; left alone", asset_id, job_id)
                continue
            log.warning(
                "asset %s: job %s silent for over %.0f s (its worker died?); queued again as %s",
                asset_id, job_id, silent_for_s, asset.job_id,
            )  # fmt: skip
            await notices.moved(asset, AssetStatus.PROCESSING, "its worker went silent: requeued")
            requeued.append(asset)
    return requeued
