"""Logging set up once per process from settings."""

from __future__ import annotations

import logging

from streamcore.settings import Settings

FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


def configure_logging(settings: Settings) -> None:
    logging.basicConfig(level=settings.log_level, format=FORMAT)
    # botocore and asyncio are chatty at INFO about things that are not ours.
    for noisy in ("botocore", "boto3", "urllib3", "asyncio"):
        logging.getLogger(noisy).setLevel(
            max(logging.WARNING, logging.getLevelName(settings.log_level))
        )
