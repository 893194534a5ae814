"""The config files the managed services read at start: Redis', SeaweedFS' S3 identities and
HAProxy's (rendered from the settings by gateway/config.py).

Secrets in them (the Redis password, the S3 keys) are written owner-only.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from devstack.services import redis_config_path, s3_identity_path
from gateway import process
from streamcore.settings import Settings


def render(settings: Settings) -> None:
    """Write the config files the managed infra services read at start (secrets: owner-only)."""
    run = settings.stack.data_dir / "run"
    run.mkdir(parents=True, exist_ok=True)
    if settings.manages_redis:
        password = settings.redis.password.get_secret_value() if settings.redis.password else ""
        redis_dir = settings.stack.data_dir / "redis"
        redis_dir.mkdir(parents=True, exist_ok=True)
        _write_private(
            redis_config_path(settings),
            "\n".join(
                [
                    f"bind {settings.stack.host}",
                    f"port {settings.stack.redis_port}",
                    f"dir {redis_dir}",
                    f'requirepass "{password}"',
                    "daemonize no",
                    "protected-mode yes",
                    "appendonly yes",
                    "appendfsync everysec",
                    'save ""',
                    "loglevel notice",
                    "",
                ]
            ),
        )
    if settings.gateway.manages_haproxy:
        process.write_config(settings)
    if settings.manages_s3:
        (settings.stack.data_dir / "s3").mkdir(parents=True, exist_ok=True)
        assert settings.s3.access_key_id and settings.s3.secret_access_key
        identities = {
            "identities": [
                {
                    "name": "streamcore",
                    "credentials": [
                        {
                            "accessKey": settings.s3.access_key_id.get_secret_value(),
                            "secretKey": settings.s3.secret_access_key.get_secret_value(),
                        }
                    ],
                    "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                }
            ]
        }
        _write_private(s3_identity_path(settings), json.dumps(identities, indent=2))


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
