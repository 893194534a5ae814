"""Every audio language of an upload, through the stack's real API, worker and origin (issue 18).

A studio-style source (English stereo, French 5.1, a Spanish mono 96 kHz dub) is uploaded with
one language overridden; what the API says of it, and what a client reads from the signed
manifests, must agree with the media FFmpeg decodes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import m3u8
import pytest

from sample_media.generate import make_fixture, multi_audio_clip
from streamcore.settings import Settings
from tests.assets_http import admin_client, wait_final
from tests.decode_check import assert_plays

pytestmark = pytest.mark.stack
NS = {"mpd": "urn:mpeg:dash:schema:mpd:2011"}


def upload(api: httpx.Client, path: Path, languages: str | None = None) -> httpx.Response:
    headers = {"Content-Type": "application/octet-stream", "X-Filename": quote(path.name)}
    if languages is not None:
        headers["X-Audio-Languages"] = languages
    return api.post("/v1/assets", content=path.read_bytes(), headers=headers)


@pytest.fixture(scope="module")
def languages_asset(
    stack: Settings, ffmpeg: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    source = multi_audio_clip(str(ffmpeg), tmp_path_factory.mktemp("audio") / "dubs.mkv")
    with admin_client(stack) as api:
        # The third track is tagged Spanish; the uploader says it is Mexican Spanish.
        response = upload(api, source, ",,es-mx")
        assert response.status_code == 202, response.text
        assert response.json()["source"]["audio_languages"] == ["", "", "es-MX"]
        return wait_final(api, response.json()["id"])


def playback(streaming_url: str, asset_id: str) -> dict[str, Any]:
    response = httpx.get(f"{streaming_url}/v1/playback/{asset_id}", timeout=10)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_the_api_lists_every_audio_rendition(languages_asset: dict[str, Any]) -> None:
    asset = languages_asset
    assert asset["status"] == "ready", asset["error"]
    assert [(a["name"], a["language"], a["label"], a["channels"], a["default"])
            for a in asset["audio"]] == [
        ("en-2ch", "en", "English", 2, True),
        ("fr-2ch", "fr", "Français", 2, False),
        ("es-mx-2ch", "es-MX", "Español (doblaje)", 2, False),
        ("fr-6ch", "fr", "Français 5.1", 6, False),
    ]  # fmt: skip
    assert asset["warnings"] == []


def test_clients_read_the_languages_from_the_signed_manifests(
    streaming_url: str, languages_asset: dict[str, Any], ffmpeg: Path
) -> None:
    source = playback(streaming_url, languages_asset["id"])["sources"][0]
    master = m3u8.loads(httpx.get(source["hls"], timeout=10).text)
    # The viewer's master lists the renditions once per steering pathway (edge, origin).
    media = [(m.language, m.name, m.channels, m.default) for m in master.media]
    assert len(media) == 4 * len({m.group_id for m in master.media})
    assert list(dict.fromkeys(media)) == [
        ("en", "English", "2", "YES"),
        ("fr", "Français", "2", "NO"),
        ("es-MX", "Español (doblaje)", "2", "NO"),
        ("fr", "Français 5.1", "6", "NO"),
    ]
    mpd = ET.fromstring(httpx.get(source["dash"], timeout=10).text)  # noqa: S314 (our own)
    sets = mpd.findall("mpd:Period/mpd:AdaptationSet[@contentType='audio']", NS)
    assert [(s.get("lang"), s.findtext("mpd:Label", namespaces=NS)) for s in sets] == [
        ("en", "English"),
        ("fr", "Français"),
        ("es-MX", "Español (doblaje)"),
        ("fr", "Français 5.1"),
    ]
    # FFmpeg, as a client, decodes the video and all four audio renditions to the end.
    duration_s = languages_asset["source"]["probe"]["duration_s"]
    assert_plays(ffmpeg, source["dash"], duration_s=duration_s, streams=1 + 4)


def test_a_language_that_is_not_one_is_refused_before_anything_is_stored(
    stack: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "x.mp4"
    path.write_bytes(b"\0" * 1000)
    with admin_client(stack) as api:
        before = api.get("/v1/assets", params={"limit": 200}).json()["items"]
        response = upload(api, path, "en,not a language")
        after = api.get("/v1/assets", params={"limit": 200}).json()["items"]
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert error["details"][0]["field"] == "audio_languages"
    assert "track 2 ('not a language')" in error["details"][0]["message"]
    assert len(after) == len(before)


def test_an_undecodable_audio_track_publishes_the_video_with_a_warning(
    stack: Settings, ffmpeg: Path, tmp_path: Path
) -> None:
    source = make_fixture(str(ffmpeg), "undecodable_audio", tmp_path)
    with admin_client(stack) as api:
        response = upload(api, source)
        assert response.status_code == 202, response.text
        asset = wait_final(api, response.json()["id"])
    assert asset["status"] == "ready", asset["error"]
    assert [a["name"] for a in asset["audio"]] == ["und-2ch"]
    (warning,) = asset["warnings"]
    assert "audio track 2" in warning and "cannot be decoded" in warning


def test_the_cli_sends_the_languages(stack: Settings, ffmpeg: Path, tmp_path: Path) -> None:
    env = {**os.environ, "COLUMNS": "200"}  # rich's error box on one line
    source = multi_audio_clip(str(ffmpeg), tmp_path / "cli.mp4", duration_s=1.0)
    result = subprocess.run(
        [sys.executable, "-m", "cli", "upload", str(source), "--json",
         "--audio-lang", "de", "--audio-lang", "", "--audio-lang", "it"],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    (asset,) = json.loads(result.stdout)
    assert asset["source"]["audio_languages"] == ["de", "", "it"]
    refused = subprocess.run(
        [sys.executable, "-m", "cli", "upload", str(source), "--audio-lang", "12345"],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert refused.returncode != 0 and "audio_languages" in refused.stderr
    assert "Traceback" not in refused.stderr
