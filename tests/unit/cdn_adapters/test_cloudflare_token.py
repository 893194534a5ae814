"""Cloudflare tokens: what we sign is what is_timed_hmac_valid_v0() accepts, and nothing more."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import urllib.parse
from urllib.parse import urlsplit

import pytest

from cdn_adapters.cloudflare import (
    ASSET_SCOPE_LENGTH,
    DEFAULT_QUERY_PARAM,
    CloudflareAdapter,
    is_timed_hmac_valid_v0,
    scope_message_mac,
    timed_hmac_token,
    waf_rule_expression,
)
from streamcore.settings import CloudflareCdn

NOW = 1_700_000_000
SECRET = "zone-hmac-secret"
RULE_TTL = 86_400
A = "/assets/3f2c0b5e-7a41-4c1e-9d7e-5b8f1e2a9c10/"
B = "/assets/9b1d4e2f-0c3a-4f5b-8e6d-7a9c0b1d2e3f/"
MASTER = f"{A}v1/master.m3u8"
SEGMENT = f"{A}v1/720p/seg_00001.m4s"


def _adapter(token_param: str = DEFAULT_QUERY_PARAM, secret: str = SECRET) -> CloudflareAdapter:
    cfg = CloudflareCdn(
        kind="cloudflare",
        name="cf",
        base_url="https://media.example.com",
        zone_id="023e105f4ecef8ad9ca31a8372d0c353",
        api_token="token",
        hmac_secret=secret,
        token_param=token_param,
    )
    return CloudflareAdapter.from_settings(cfg, rule_ttl_s=RULE_TTL, clock=lambda: NOW)


def _uri(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def _move(url: str, path: str) -> str:
    """The same query string on another path: what a viewer trying to reuse a token does."""
    return f"https://media.example.com{path}?{urlsplit(url).query}"


def test_token_form() -> None:
    token = timed_hmac_token(b"k", "/x", NOW)
    assert re.fullmatch(r"1700000000-[A-Za-z0-9_-]{43}", token)
    with pytest.raises(ValueError, match="10-digit"):
        timed_hmac_token(b"k", "/x", 99)


def test_the_mirror_accepts_a_token_made_as_cloudflares_documentation_makes_it() -> None:
    # Cloudflare's "HMAC token generation" example, verbatim in substance: standard base64,
    # URL-encoded, checked without the "s" flag.
    message, timestamp = "/images/cat.jpg", str(NOW)
    digest = hmac.new(SECRET.encode(), f"{message}{timestamp}".encode(), hashlib.sha256)
    token = urllib.parse.quote_plus(base64.b64encode(digest.digest()))
    uri = f"{message}?verify={timestamp}-{token}"
    assert is_timed_hmac_valid_v0(SECRET.encode(), uri, 10800, NOW + 5, 8)
    assert not is_timed_hmac_valid_v0(SECRET.encode(), uri, 10800, NOW + 10800, 8)
    assert not is_timed_hmac_valid_v0(b"other", uri, 10800, NOW + 5, 8)
    assert not is_timed_hmac_valid_v0(SECRET.encode(), uri.replace("cat", "dog"), 10800, NOW, 8)
    # Our URL-safe form is the same MAC; it needs the "s" flag.
    ours = f"{message}?verify={timed_hmac_token(SECRET.encode(), message, NOW)}"
    assert is_timed_hmac_valid_v0(SECRET.encode(), ours, 10800, NOW, 8, "s")


def test_a_signed_url_is_valid_until_exactly_ttl_s() -> None:
    adapter = _adapter()
    url = adapter.signed_url(MASTER, ttl_s=600)
    assert url.startswith(f"https://media.example.com{MASTER}?verify=")
    assert adapter.verify(url, now=NOW)
    assert adapter.verify(url, now=NOW + 599)
    assert not adapter.verify(url, now=NOW + 600)
    # The rule itself, applied by the mirror to the URI Cloudflare sees:
    assert is_timed_hmac_valid_v0(SECRET.encode(), _uri(url), RULE_TTL, NOW + 599, 8, "s")
    assert not is_timed_hmac_valid_v0(SECRET.encode(), _uri(url), RULE_TTL, NOW + 600, 8, "s")


def test_tampering_is_rejected() -> None:
    adapter = _adapter()
    url = adapter.signed_url(MASTER, ttl_s=600)
    assert not adapter.verify(url.replace("master", "mister"), now=NOW)
    assert not adapter.verify(url.replace(f"verify={NOW - RULE_TTL + 600}", "verify=1999999999"))
    assert not adapter.verify(url[:-2] + ("AA" if not url.endswith("AA") else "BB"), now=NOW)
    assert not adapter.verify(f"{url}&extra=1", now=NOW)
    stamp = f"{NOW - RULE_TTL + 600}-"
    assert not adapter.verify(url.replace(stamp, f"{stamp}!!!!"), now=NOW)  # junk in the MAC
    assert not _adapter(secret="another secret").verify(url, now=NOW)


def test_a_token_for_one_asset_is_never_valid_for_another() -> None:
    adapter = _adapter()
    single = adapter.signed_url(MASTER, ttl_s=600)
    scoped = adapter.signed_url(MASTER, ttl_s=600, scope=A)
    for url in (single, scoped):
        assert adapter.verify(url, now=NOW)
        assert not adapter.verify(_move(url, f"{B}v1/master.m3u8"), now=NOW)
    # A single-file token covers that file only; a scoped one every file below the scope.
    assert not adapter.verify(_move(single, SEGMENT), now=NOW)
    assert adapter.verify(_move(scoped, SEGMENT), now=NOW)
    assert adapter.verify(_move(scoped, f"{A}v2/1080p/seg_00420.m4s"), now=NOW)


def test_scoped_tokens_sign_the_scope_as_the_rule_reads_it() -> None:
    url = _adapter().signed_url(SEGMENT, ttl_s=60, scope=A)
    message_mac = scope_message_mac(_uri(url), ASSET_SCOPE_LENGTH)
    assert message_mac.startswith(f"{A}?verify=")
    assert is_timed_hmac_valid_v0(SECRET.encode(), message_mac, RULE_TTL, NOW, 8, "s")


def test_the_token_parameter_name_is_configurable() -> None:
    adapter = _adapter(token_param="token")
    url = adapter.signed_url(MASTER, ttl_s=60)
    assert "?token=" in url
    assert adapter.verify(url, now=NOW)
    assert is_timed_hmac_valid_v0(SECRET.encode(), _uri(url), RULE_TTL, NOW, 7, "s")


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"ttl_s": RULE_TTL + 1}, "rule's ttl"),
        ({"ttl_s": 0}, "ttl_s"),
        ({"ttl_s": 60, "client_ip": "203.0.113.7"}, "client IP"),
        ({"ttl_s": 60, "scope": "/assets/"}, "scopes of"),
        ({"ttl_s": 60, "scope": B}, "folder"),
        ({"ttl_s": 60, "scope": A[:-1]}, "folder"),
    ],
)
def test_requests_the_rule_could_not_honour_are_refused(kwargs: dict, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        _adapter().signed_url(MASTER, **kwargs)


def test_the_rule_expression_is_the_one_documented() -> None:
    def scoped(length: int) -> str:
        return (
            ' or is_timed_hmac_valid_v0("<hmac_secret>", concat(substring(http.request.uri.path,'
            f' 0, {length}), "?", http.request.uri.query), 86400, http.request.timestamp.sec, 8,'
            ' "s")'
        )

    expected = (
        '(http.host eq "media.example.com" and starts_with(http.request.uri.path, "/assets/")'
        ' and not (is_timed_hmac_valid_v0("<hmac_secret>", http.request.uri, 86400,'
        f' http.request.timestamp.sec, 8, "s"){scoped(45)}{scoped(48)}{scoped(49)}))'
    )
    assert _adapter().rule_expression() == expected
    assert expected == waf_rule_expression(
        host="media.example.com", token_param="verify", rule_ttl_s=RULE_TTL
    )


def test_version_scopes_cover_their_version_only() -> None:
    adapter = _adapter()
    v1 = adapter.signed_url(MASTER, ttl_s=60, scope=f"{A}v1/")
    v12 = adapter.signed_url(f"{A}v12/master.m3u8", ttl_s=60, scope=f"{A}v12/")
    assert adapter.verify(_move(v1, SEGMENT), now=NOW)
    assert not adapter.verify(_move(v1, f"{A}v2/master.m3u8"), now=NOW)
    assert not adapter.verify(_move(v1, f"{A}v12/master.m3u8"), now=NOW)
    assert adapter.verify(_move(v12, f"{A}v12/720p/seg_00001.m4s"), now=NOW)
    assert not adapter.verify(_move(v12, f"{A}v1/720p/seg_00001.m4s"), now=NOW)
    with pytest.raises(ValueError, match="scopes of"):
        adapter.signed_url(f"{A}v100/master.m3u8", ttl_s=60, scope=f"{A}v100/")


def test_a_query_the_path_already_has_is_signed_too() -> None:
    # How playback signs: the origin's token rides in the query, and the origin appends the
    # whole query (ours last) to every URI in the manifests it serves.
    adapter = _adapter()
    scope = f"{A}v1/"
    url = adapter.signed_url(f"{MASTER}?token=origin-token", ttl_s=60, scope=scope)
    assert url.startswith(f"https://media.example.com{MASTER}?token=origin-token&verify=")
    query = urlsplit(url).query
    child = f"https://media.example.com{SEGMENT}?{query}"
    assert adapter.verify(url, now=NOW)
    assert adapter.verify(child, now=NOW)
    assert not adapter.verify(child.replace("origin-token", "forged-token"), now=NOW)
    assert not adapter.verify(f"https://media.example.com{SEGMENT}?{query.split('&')[1]}", now=NOW)
    single = adapter.signed_url(f"{MASTER}?token=origin-token", ttl_s=60)
    assert adapter.verify(single, now=NOW)
    assert not adapter.verify(single.replace("origin-token", "forged-token"), now=NOW)
    assert not adapter.verify(_move(single, SEGMENT), now=NOW)
    with pytest.raises(ValueError, match="unusable query"):
        adapter.signed_url(f"{MASTER}?a=1&verify=x", ttl_s=60)


def test_a_base_url_with_a_path_is_refused() -> None:
    with pytest.raises(ValueError, match="no path"):
        CloudflareAdapter(
            name="cf",
            base_url="https://example.com/media",
            zone_id="z",
            api_token="t",
            hmac_secret=b"s",
        )
