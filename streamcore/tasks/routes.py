"""Every task's name and the queue it runs on: the one routing table.

No Celery import here: the settings (one policy per queue) and the API import these names too.
"""

from __future__ import annotations

import enum


class QueueName(enum.StrEnum):
    # Long, CPU-bound: downloads, FFmpeg, uploads. Minutes to hours each.
    TRANSCODE = "transcode"
    # Short and latency-sensitive: CDN purges, cache invalidations, file deletes, the reaper.
    # A pool of its own, so that no transcode ever holds one of them back.
    CONTROL = "control"
    # The subscriptions' time-based transitions (renewals, ends of grace and suspension):
    # run by the subscriptions service's own worker pool (subscriptions/worker.py), which
    # owns their tables.
    BILLING = "billing"
    # The recommendations' batch job (neighbour lists, trending): run by the streaming
    # service's own worker pool (streaming/worker.py), which owns those tables.
    RECOMMENDATIONS = "recommendations"


class TaskName(enum.StrEnum):
    PROCESS_ASSET = "streamcore.process_asset"
    # An asset's caption rows into its published version (segmented WebVTT, manifests, purge).
    PUBLISH_CAPTIONS = "streamcore.publish_captions"
    DELETE_ASSET_FILES = "streamcore.delete_asset_files"
    PURGE_CDN = "streamcore.purge_cdn"
    ASSETS_CHANGED = "streamcore.assets_changed"
    REAP_STALLED = "streamcore.reap_stalled"
    SUBSCRIPTIONS_TICK = "streamcore.subscriptions_tick"
    REBUILD_RECOMMENDATIONS = "streamcore.rebuild_recommendations"


TASK_QUEUES: dict[TaskName, QueueName] = {
    TaskName.PROCESS_ASSET: QueueName.TRANSCODE,
    # No FFmpeg: text and small manifests, seconds; beside the purges it ends with.
    TaskName.PUBLISH_CAPTIONS: QueueName.CONTROL,
    TaskName.DELETE_ASSET_FILES: QueueName.CONTROL,
    TaskName.PURGE_CDN: QueueName.CONTROL,
    TaskName.ASSETS_CHANGED: QueueName.CONTROL,
    TaskName.REAP_STALLED: QueueName.CONTROL,
    TaskName.SUBSCRIPTIONS_TICK: QueueName.BILLING,
    TaskName.REBUILD_RECOMMENDATIONS: QueueName.RECOMMENDATIONS,
}
