"""CloudFrontAdapter purges against the AWS API emulator (moto) running as a real HTTP server.

CloudFront itself cannot be reached from here: moto's server stands in for its API, spoken to
over HTTP by the same aiobotocore client the adapter uses in production. moto accepts every
invalidation at once (status COMPLETED) and does not enforce the in-flight limits nor
CallerReference idempotency; those rules are tested in
tests/unit/cdn_adapters/test_cloudfront_backoff.py.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from moto.server import ThreadedMotoServer

from cdn_adapters.base import CdnError, CdnUnavailable, PurgeState
from cdn_adapters.cloudfront import CloudFrontAdapter
from streamcore.settings import CloudFrontCdn
from tests.processes import free_port

ASSET = f"/assets/{uuid.UUID(int=1)}/"
OTHER = f"/assets/{uuid.UUID(int=2)}/"
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    # The AWS API emulator, standing in for CloudFront's API on a free local port.
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(scope="module")
def cloudfront(moto_endpoint: str) -> Any:
    return boto3.client(
        "cloudfront", endpoint_url=moto_endpoint, region_name="us-east-1", **CREDENTIALS
    )


@pytest.fixture
def distribution_id(cloudfront: Any) -> str:
    config = {
        "CallerReference": uuid.uuid4().hex,
        "Comment": "StreamCore test",
        "Enabled": True,
        "Origins": {
            "Quantity": 1,
            "Items": [
                {
                    "Id": "origin",
                    "DomainName": "origin.example.com",
                    "CustomOriginConfig": {
                        "HTTPPort": 80,
                        "HTTPSPort": 443,
                        "OriginProtocolPolicy": "https-only",
                    },
                }
            ],
        },
        "DefaultCacheBehavior": {
            "TargetOriginId": "origin",
            "ViewerProtocolPolicy": "https-only",
            "TrustedKeyGroups": {"Enabled": False, "Quantity": 0},
            "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6",  # CachingOptimized
        },
    }
    return str(cloudfront.create_distribution(DistributionConfig=config)["Distribution"]["Id"])


@functools.cache
def _pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def _adapter(endpoint: str, distribution_id: str) -> CloudFrontAdapter:
    cfg = CloudFrontCdn(
        kind="cloudfront",
        name="cf",
        domain="d111111abcdef8.cloudfront.net",
        distribution_id=distribution_id,
        key_pair_id="K2JCJMDEHXQW5F",
        private_key=_pem(),
        access_key_id=CREDENTIALS["aws_access_key_id"],
        secret_access_key=CREDENTIALS["aws_secret_access_key"],
        endpoint_url=endpoint,
        poll_interval_s=0.05,
    )
    return CloudFrontAdapter.from_settings(cfg)


@pytest.fixture
def adapter(moto_endpoint: str, distribution_id: str) -> CloudFrontAdapter:
    return _adapter(moto_endpoint, distribution_id)


def _invalidations(cloudfront: Any, distribution_id: str) -> list[dict[str, Any]]:
    listing = cloudfront.list_invalidations(DistributionId=distribution_id)["InvalidationList"]
    return [
        cloudfront.get_invalidation(DistributionId=distribution_id, Id=item["Id"])["Invalidation"]
        for item in listing.get("Items") or []
    ]


async def test_a_whole_asset_is_one_wildcard_invalidation(
    adapter: CloudFrontAdapter, cloudfront: Any, distribution_id: str
) -> None:
    result = await adapter.purge([f"{ASSET}v1/master.m3u8", ASSET], reference="asset-1-delete")
    (invalidation,) = _invalidations(cloudfront, distribution_id)
    assert invalidation["InvalidationBatch"] == {
        "Paths": {"Quantity": 1, "Items": [f"{ASSET}*"]},
        "CallerReference": "asset-1-delete#0",
    }
    assert result.provider_ids == (invalidation["Id"],)
    assert result.paths == (f"{ASSET}*",)
    assert result.purge_id == f"cf:{distribution_id}:{invalidation['Id']}"
    assert result.cdn == "cf"


async def test_files_and_folders_are_invalidated_as_planned(
    adapter: CloudFrontAdapter, cloudfront: Any, distribution_id: str
) -> None:
    segments = [f"{ASSET}v1/720p/seg_{i:05}.m4s" for i in range(12)]
    files = [f"{ASSET}v1/master.m3u8", f"{OTHER}v2/master.m3u8", *segments]
    result = await adapter.purge(files, reference="publish-2")
    (invalidation,) = _invalidations(cloudfront, distribution_id)
    expected = [f"{ASSET}v1/720p/*", f"{ASSET}v1/master.m3u8", f"{OTHER}v2/master.m3u8"]
    assert invalidation["InvalidationBatch"]["Paths"]["Items"] == expected
    assert list(result.paths) == expected


async def test_a_retried_purge_sends_the_same_invalidation(
    adapter: CloudFrontAdapter, cloudfront: Any, distribution_id: str
) -> None:
    paths = [f"{ASSET}v1/master.m3u8", OTHER]
    await adapter.purge(paths, reference="job-9")
    await adapter.purge(list(reversed(paths)), reference="job-9")
    batches = [i["InvalidationBatch"] for i in _invalidations(cloudfront, distribution_id)]
    # Identical caller reference and paths: CloudFront answers the second call with the first
    # invalidation instead of creating (and billing) another.
    assert batches[0] == {
        "Paths": {"Quantity": 2, "Items": [f"{OTHER}*", f"{ASSET}v1/master.m3u8"]},
        "CallerReference": "job-9#0",
    }
    assert all(batch == batches[0] for batch in batches)


# moto creates a second invalidation for a repeated CallerReference where CloudFront returns the
# first one, so "no second invalidation" cannot be asserted against the emulator; the test above
# checks that a retry sends the same caller reference and paths, and the unit tests check the
# adapter's handling of CloudFront's answer with a stand-in for the API.


async def test_status_and_wait_report_completion(adapter: CloudFrontAdapter) -> None:
    result = await adapter.purge([ASSET, f"{OTHER}v1/master.m3u8"], reference="job-11")
    status = await adapter.purge_status(result.purge_id)
    assert status.state is PurgeState.COMPLETED
    assert status.provider_ids == result.provider_ids
    assert status.paths == result.paths
    waited = await adapter.wait(result.purge_id, timeout_s=5)
    assert waited.state is PurgeState.COMPLETED


async def test_nothing_to_purge_is_complete_at_once(adapter: CloudFrontAdapter) -> None:
    result = await adapter.purge([], reference="empty")
    assert result.state is PurgeState.COMPLETED
    assert (await adapter.purge_status(result.purge_id)).provider_ids == ()


async def test_unknown_distribution_and_invalidation_are_cdn_errors(
    moto_endpoint: str, adapter: CloudFrontAdapter, distribution_id: str
) -> None:
    with pytest.raises(CdnError, match="no CloudFront distribution EDOESNOTEXIST"):
        await _adapter(moto_endpoint, "EDOESNOTEXIST").purge([ASSET], reference="r")
    with pytest.raises(CdnError, match="knows no invalidation INOPE"):
        await adapter.purge_status(f"cf:{distribution_id}:INOPE")
    with pytest.raises(CdnError, match="not a purge id"):
        await adapter.purge_status("cf:EOTHER:I1")


async def test_an_unreachable_api_is_cdn_unavailable(distribution_id: str) -> None:
    # A port nothing listens on any more: connection refused, after botocore's own retries.
    port = free_port()
    adapter = _adapter(f"http://127.0.0.1:{port}", distribution_id)
    with pytest.raises(CdnUnavailable, match="unreachable"):
        await adapter.purge([ASSET], reference="r")
