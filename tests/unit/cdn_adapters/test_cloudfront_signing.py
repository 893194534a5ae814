"""CloudFront signed URLs and cookies, checked with the public key and against botocore."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from botocore.signers import CloudFrontSigner
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from cdn_adapters.cloudfront import CloudFrontAdapter, cloudfront_b64
from streamcore.settings import CloudFrontCdn

NOW = 1_700_000_000
DOMAIN = "d111111abcdef8.cloudfront.net"
KEY_ID = "K2JCJMDEHXQW5F"
ASSET = "/assets/3f2c0b5e-7a41-4c1e-9d7e-5b8f1e2a9c10/"
MASTER = f"{ASSET}v1/master.m3u8"
SEGMENT = f"{ASSET}v1/720p/seg_00001.m4s"


@pytest.fixture(scope="module")
def private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pem(key: Any) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def _settings(pem: str) -> CloudFrontCdn:
    return CloudFrontCdn(
        kind="cloudfront",
        name="cf",
        domain=DOMAIN,
        distribution_id="E2QWRUHAPOMQZL",
        key_pair_id=KEY_ID,
        private_key=pem,
    )


@pytest.fixture
def adapter(private_key: rsa.RSAPrivateKey) -> CloudFrontAdapter:
    return CloudFrontAdapter.from_settings(_settings(_pem(private_key)), clock=lambda: NOW + 0.7)


def _b64decode(value: str) -> bytes:
    return base64.b64decode(value.translate(str.maketrans("-_~", "+=/")))


def _verify(key: rsa.RSAPrivateKey, signature: str, policy: bytes) -> None:
    # As CloudFront verifies: PKCS#1 v1.5 over SHA-1, with the public key only.
    public = key.public_key()
    public.verify(_b64decode(signature), policy, padding.PKCS1v15(), hashes.SHA1())  # noqa: S303


def _query(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


def _botocore(key: rsa.RSAPrivateKey) -> CloudFrontSigner:
    def sign(message: bytes) -> bytes:
        return key.sign(message, padding.PKCS1v15(), hashes.SHA1())  # noqa: S303 (CloudFront's)

    return CloudFrontSigner(KEY_ID, sign)


def test_asset_url(adapter: CloudFrontAdapter) -> None:
    assert adapter.asset_url(MASTER) == f"https://{DOMAIN}{MASTER}"


def test_canned_url_signature_verifies_over_the_canned_policy(
    adapter: CloudFrontAdapter, private_key: rsa.RSAPrivateKey
) -> None:
    url = adapter.signed_url(MASTER, ttl_s=600)
    assert url.startswith(f"https://{DOMAIN}{MASTER}?Expires=")
    query = _query(url)
    assert set(query) == {"Expires", "Signature", "Key-Pair-Id"}
    assert query["Expires"] == str(NOW + 600)
    assert query["Key-Pair-Id"] == KEY_ID
    # The canned policy, as CloudFront rebuilds it from the URL (byte for byte, no spaces).
    canned = (
        f'{{"Statement":[{{"Resource":"https://{DOMAIN}{MASTER}",'
        f'"Condition":{{"DateLessThan":{{"AWS:EpochTime":{NOW + 600}}}}}}}]}}'
    ).encode()
    _verify(private_key, query["Signature"], canned)
    other = canned.replace(MASTER.encode(), SEGMENT.encode())
    with pytest.raises(InvalidSignature):
        _verify(private_key, query["Signature"], other)


def test_canned_url_is_what_botocore_makes(
    adapter: CloudFrontAdapter, private_key: rsa.RSAPrivateKey
) -> None:
    expected = _botocore(private_key).generate_presigned_url(
        f"https://{DOMAIN}{MASTER}", date_less_than=datetime.fromtimestamp(NOW + 600, tz=UTC)
    )
    assert adapter.signed_url(MASTER, ttl_s=600) == expected


def test_scoped_url_carries_a_wildcard_custom_policy(
    adapter: CloudFrontAdapter, private_key: rsa.RSAPrivateKey
) -> None:
    url = adapter.signed_url(MASTER, ttl_s=3600, scope=ASSET)
    assert url.startswith(f"https://{DOMAIN}{MASTER}?Policy=")
    query = _query(url)
    assert set(query) == {"Policy", "Signature", "Key-Pair-Id"}
    policy = _b64decode(query["Policy"])
    _verify(private_key, query["Signature"], policy)
    (statement,) = json.loads(policy)["Statement"]
    assert statement == {
        "Resource": f"https://{DOMAIN}{ASSET}*",
        "Condition": {"DateLessThan": {"AWS:EpochTime": NOW + 3600}},
    }
    # The same query string serves every file of the asset (what playlists rely on).
    assert _query(adapter.signed_url(SEGMENT, ttl_s=3600, scope=ASSET)) == query


def test_client_ip_adds_an_ip_condition(
    adapter: CloudFrontAdapter, private_key: rsa.RSAPrivateKey
) -> None:
    for scope, resource in (
        (ASSET, f"https://{DOMAIN}{ASSET}*"),
        (None, f"https://{DOMAIN}{MASTER}"),
    ):
        query = _query(adapter.signed_url(MASTER, ttl_s=60, scope=scope, client_ip="203.0.113.7"))
        policy = _b64decode(query["Policy"])
        _verify(private_key, query["Signature"], policy)
        (statement,) = json.loads(policy)["Statement"]
        assert statement["Resource"] == resource
        assert statement["Condition"]["IpAddress"] == {"AWS:SourceIp": "203.0.113.7/32"}
        assert statement["Condition"]["DateLessThan"] == {"AWS:EpochTime": NOW + 60}


def test_custom_policy_url_is_what_botocore_makes(
    adapter: CloudFrontAdapter, private_key: rsa.RSAPrivateKey
) -> None:
    signer = _botocore(private_key)
    policy = signer.build_policy(
        f"https://{DOMAIN}{ASSET}*",
        datetime.fromtimestamp(NOW + 60, tz=UTC),
        ip_address="198.51.100.20/32",
    )
    expected = signer.generate_presigned_url(f"https://{DOMAIN}{SEGMENT}", policy=policy)
    assert adapter.signed_url(SEGMENT, ttl_s=60, scope=ASSET, client_ip="198.51.100.20") == expected


def test_signed_cookies_carry_the_scope_policy(
    adapter: CloudFrontAdapter, private_key: rsa.RSAPrivateKey
) -> None:
    cookies = adapter.signed_cookies(ASSET, ttl_s=900, client_ip="203.0.113.7")
    assert set(cookies) == {"CloudFront-Policy", "CloudFront-Signature", "CloudFront-Key-Pair-Id"}
    assert cookies["CloudFront-Key-Pair-Id"] == KEY_ID
    policy = _b64decode(cookies["CloudFront-Policy"])
    _verify(private_key, cookies["CloudFront-Signature"], policy)
    (statement,) = json.loads(policy)["Statement"]
    assert statement["Resource"] == f"https://{DOMAIN}{ASSET}*"
    assert statement["Condition"]["DateLessThan"] == {"AWS:EpochTime": NOW + 900}
    assert statement["Condition"]["IpAddress"] == {"AWS:SourceIp": "203.0.113.7/32"}
    # Cookie values use only CloudFront's URL-safe alphabet.
    assert not any(set(value) & set("+=/") for value in cookies.values())


def test_cloudfront_base64_alphabet() -> None:
    assert cloudfront_b64(b"\xfb\xff\xff") == "-~~~"  # '+///' in standard base64
    assert cloudfront_b64(b"a") == "YQ__"


@pytest.mark.parametrize(
    ("path", "scope", "client_ip", "ttl_s", "error"),
    [
        (MASTER, "/assets/3f2c0b5e", None, 60, "folder"),
        (MASTER, "/assets/other/", None, 60, "folder"),
        (MASTER, None, "2001:db8::1", 60, "IPv4"),
        (MASTER, None, "not-an-ip", 60, "IP"),
        (MASTER, None, None, 0, "ttl_s"),
        ("assets/x", None, None, 60, "absolute"),
    ],
)
def test_bad_requests_are_refused(
    adapter: CloudFrontAdapter,
    path: str,
    scope: str | None,
    client_ip: str | None,
    ttl_s: int,
    error: str,
) -> None:
    with pytest.raises(ValueError, match=error):
        adapter.signed_url(path, ttl_s=ttl_s, scope=scope, client_ip=client_ip)


def test_keys_that_cloudfront_cannot_use_are_refused_at_construction() -> None:
    with pytest.raises(ValueError, match=r"cdns\[cf\]\.private_key: not an unencrypted PEM"):
        CloudFrontAdapter.from_settings(_settings("-----BEGIN PRIVATE KEY-----\nnope\n"))
    with pytest.raises(ValueError, match="RSA keys only"):
        CloudFrontAdapter.from_settings(_settings(_pem(ec.generate_private_key(ec.SECP256R1()))))


def test_a_query_the_path_already_has_is_signed_too(
    adapter: CloudFrontAdapter, private_key: rsa.RSAPrivateKey
) -> None:
    # How playback signs: the origin's token rides in the query, and the origin appends the
    # whole query to every URI in the manifests it serves.
    canned = adapter.signed_url(f"{MASTER}?token=origin-token", ttl_s=60)
    expected = _botocore(private_key).generate_presigned_url(
        f"https://{DOMAIN}{MASTER}?token=origin-token",
        date_less_than=datetime.fromtimestamp(NOW + 60, tz=UTC),
    )
    assert canned == expected
    assert canned.startswith(f"https://{DOMAIN}{MASTER}?token=origin-token&Expires=")
    scope = f"{ASSET}v1/"
    scoped = adapter.signed_url(f"{MASTER}?token=origin-token", ttl_s=60, scope=scope)
    query = _query(scoped)
    assert query["token"] == "origin-token"
    (statement,) = json.loads(_b64decode(query["Policy"]))["Statement"]
    # '*' matches the rest of the path and the query, as CloudFront evaluates it.
    assert statement["Resource"] == f"https://{DOMAIN}{scope}*"
    with pytest.raises(ValueError, match="unusable query"):
        adapter.signed_url(f"{MASTER}?Signature=forged", ttl_s=60)
