"""Properties of playback grants, rendition-limited ones (``only``) above all: whatever the
asset, renditions, paths and clock hypothesis picks, a token opens its own version folder's
manifests, shared files and named renditions, and nothing else; never after it expires; and
no byte of it can be changed to open more."""

from __future__ import annotations

import base64
import json
from uuid import UUID

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from pydantic import SecretStr

from streamcore import signing
from streamcore.assets import keys

KEYS = {"k1": SecretStr("first key material"), "k2": SecretStr("second key material")}
NOW = 1_800_000_000
SKEW = 30

names = st.from_regex(r"\A[0-9]{3,4}p\Z") | st.from_regex(r"\A[a-z][a-z0-9_-]{0,8}\Z")
rendition_sets = st.frozensets(names, min_size=1, max_size=4)
files = st.sampled_from(["init.mp4", "index.m3u8", "iframes.m3u8", "seg_00001.m4s",
                         "seg_00042.m4s"])  # fmt: skip
versions = st.integers(min_value=1, max_value=50)
shared = st.sampled_from(["master.m3u8", "manifest.mpd", "audio/aac/init.mp4",
                          "audio/aac/seg_00003.m4s", "audio/aac/index.m3u8",
                          "poster/poster_640.jpg", "storyboard/storyboard.vtt",
                          "storyboard/sprite_001.jpg"])  # fmt: skip


def folder(asset: UUID, version: int) -> str:
    return "/" + keys.version_prefix(asset, version)


def grant(asset: UUID, version: int, only: frozenset[str], ttl_s: int = 600) -> str:
    return signing.sign(KEYS, "k1", folder(asset, version), ttl_s=ttl_s, now=NOW, only=only)


def opens(token: str, path: str, now: float = NOW) -> bool:
    try:
        signing.verify(token, path, KEYS, now=now, skew_s=SKEW)
    except signing.TokenError:
        return False
    return True


@given(st.uuids(), versions, rendition_sets, files, shared)
def test_a_token_opens_its_renditions_and_what_they_share(
    asset: UUID, version: int, only: frozenset[str], name: str, common: str
) -> None:
    token = grant(asset, version, only)
    base = folder(asset, version)
    for rendition in only:
        assert opens(token, base + keys.rendition_folder(rendition) + name)
    assert opens(token, base + common)


@given(st.uuids(), versions, rendition_sets, names, files)
def test_a_token_never_opens_another_rendition(
    asset: UUID, version: int, only: frozenset[str], other: str, name: str
) -> None:
    assume(other not in only)
    token = grant(asset, version, only)
    path = folder(asset, version) + keys.rendition_folder(other) + name
    with pytest.raises(signing.RenditionNotAllowed) as refused:
        signing.verify(token, path, KEYS, now=NOW)
    assert refused.value.code == "rendition_not_allowed"


@given(st.uuids(), st.uuids(), versions, versions, rendition_sets, files)
def test_a_token_never_opens_another_asset_or_version(
    asset: UUID, other: UUID, version: int, other_version: int, only: frozenset[str], name: str
) -> None:
    assume((asset, version) != (other, other_version))
    token = grant(asset, version, only)
    for rendition in only:
        assert not opens(token, folder(other, other_version) + f"video/{rendition}/{name}")
    assert not opens(token, folder(other, other_version) + "master.m3u8")


@given(st.uuids(), rendition_sets, st.sampled_from(["source.mp4", "video/x", "video/",
       "audio/", "ffmpeg.m3u8", "video/720p", "other/720p/seg_00001.m4s"]))  # fmt: skip
def test_nothing_else_in_the_folder_is_opened(
    asset: UUID, only: frozenset[str], stray: str
) -> None:
    assert not opens(grant(asset, 1, only), folder(asset, 1) + stray)


@given(st.uuids(), rendition_sets, st.integers(1, 3600), st.integers(1, 10**6), shared)
def test_nothing_is_opened_after_expiry(
    asset: UUID, only: frozenset[str], ttl_s: int, late_s: int, common: str
) -> None:
    token = grant(asset, 1, only, ttl_s=ttl_s)
    path = folder(asset, 1) + common
    assert opens(token, path, now=NOW + ttl_s + SKEW)
    with pytest.raises(signing.TokenExpired):
        signing.verify(token, path, KEYS, now=NOW + ttl_s + SKEW + late_s, skew_s=SKEW)


@given(st.uuids(), rendition_sets, st.data())
def test_any_changed_character_is_refused(
    asset: UUID, only: frozenset[str], data: st.DataObject
) -> None:
    token = grant(asset, 1, only)
    position = data.draw(st.integers(0, len(token) - 1))
    replacement = data.draw(st.sampled_from("AZaz09-_."))
    assume(token[position] != replacement)
    tampered = token[:position] + replacement + token[position + 1 :]
    for rendition in only:
        assert not opens(tampered, folder(asset, 1) + f"video/{rendition}/init.mp4")
    assert not opens(tampered, folder(asset, 1) + "master.m3u8")


def _payload(claims: dict[str, object]) -> str:
    raw = json.dumps(claims, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@given(st.uuids(), rendition_sets, names)
def test_claims_cannot_be_widened_under_the_same_mac(
    asset: UUID, only: frozenset[str], extra: str
) -> None:
    assume(extra not in only)
    token = grant(asset, 1, only)
    payload, mac = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    widened = [
        {k: v for k, v in claims.items() if k != "o"},  # the limit dropped
        {**claims, "o": sorted({*only, extra})},  # a rendition added
        {**claims, "e": claims["e"] + 86400},  # a day longer
        {**claims, "s": "/assets/"},  # every asset
    ]
    for forged in widened:
        assert not opens(f"{_payload(forged)}.{mac}", folder(asset, 1) + f"video/{extra}/init.mp4")


@pytest.mark.parametrize("claim", ["720p", {"720p": 1}, [720], ["../1080p"], None])
def test_a_malformed_only_claim_is_a_malformed_token(claim: object) -> None:
    """Even correctly signed (by a holder of the key), an unreadable limit never means none."""
    payload = _payload({"k": "k1", "s": "/assets/a/v1/", "e": NOW + 600, "o": claim})
    token = f"{payload}.{signing._mac(KEYS['k1'], payload)}"
    with pytest.raises(signing.TokenError, match="malformed"):
        signing.verify(token, "/assets/a/v1/video/1080p/init.mp4", KEYS, now=NOW)


def test_an_empty_only_opens_no_rendition_but_the_shared_files() -> None:
    token = signing.sign(KEYS, "k1", "/assets/a/v1/", ttl_s=60, now=NOW, only=[])
    assert opens(token, "/assets/a/v1/master.m3u8")
    assert not opens(token, "/assets/a/v1/video/240p/init.mp4")


def test_only_needs_a_folder_scope_and_plain_names() -> None:
    with pytest.raises(ValueError, match="folder"):
        signing.sign(KEYS, "k1", "/assets/a/v1/master.m3u8", ttl_s=60, only=["720p"])
    with pytest.raises(ValueError, match="rendition names"):
        signing.sign(KEYS, "k1", "/assets/a/v1/", ttl_s=60, only=["720p/../1080p"])


def test_a_token_without_only_still_opens_every_rendition() -> None:
    token = signing.sign(KEYS, "k1", "/assets/a/v1/", ttl_s=60, now=NOW)
    assert signing.verify(token, "/assets/a/v1/video/1080p/init.mp4", KEYS, now=NOW).only is None
