"""S3 clients built from settings: AWS S3, MinIO or the stack's SeaweedFS gateway alike."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from streamcore.settings import Settings


def client_kwargs(
    settings: Settings, *, connect_timeout: float = 5.0, retries: int = 3
) -> dict[str, Any]:
    """Keyword arguments for a boto3 or aiobotocore S3 client, shared so both agree."""
    s3 = settings.s3
    assert s3.access_key_id is not None and s3.secret_access_key is not None
    return {
        "endpoint_url": settings.s3_endpoint,
        "region_name": s3.region,
        "aws_access_key_id": s3.access_key_id.get_secret_value(),
        "aws_secret_access_key": s3.secret_access_key.get_secret_value(),
        "config": Config(
            s3={"addressing_style": s3.addressing_style},
            connect_timeout=connect_timeout,
            read_timeout=max(connect_timeout, 30.0),
            retries={"max_attempts": retries, "mode": "standard"},
            # SeaweedFS and MinIO accept the newer default checksums unevenly; only when asked.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        ),
    }


def s3_client(settings: Settings, *, connect_timeout: float = 5.0, retries: int = 3) -> Any:
    """A synchronous boto3 S3 client (CLI and workers; never on an event loop)."""
    return boto3.client(
        "s3", **client_kwargs(settings, connect_timeout=connect_timeout, retries=retries)
    )


def ensure_buckets(settings: Settings) -> list[str]:
    """Create the uploads and media buckets if missing; return the ones created."""
    client = s3_client(settings)
    created = []
    for bucket in (settings.s3.uploads_bucket, settings.s3.media_bucket):
        try:
            client.head_bucket(Bucket=bucket)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in ("404", "NoSuchBucket", "NotFound"):
                raise
            if settings.s3.region == "us-east-1":
                client.create_bucket(Bucket=bucket)
            else:  # AWS rejects a LocationConstraint of us-east-1 and requires it elsewhere
                client.create_bucket(
                    Bucket=bucket,
                    CreateBucketConfiguration={"LocationConstraint": settings.s3.region},
                )
            created.append(bucket)
    return created
