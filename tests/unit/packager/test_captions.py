"""Captions: real-world-shaped WebVTT and SRT files read, every refusal naming its line, the
writers checked by round trips (hypothesis) and by FFmpeg's own WebVTT reader."""

from __future__ import annotations

import ast
import logging
import pickle
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from packager.caption_cues import MAX_MS
from packager.captions import (
    CAPTION_KINDS,
    CaptionDocument,
    CaptionError,
    Cue,
    mpegts_for,
    normalise_language,
    parse_captions,
    segment_webvtt,
    to_webvtt,
)

WEBVTT_SAMPLE = """\
WEBVTT - Episode 1, English
Kind: captions
Language: en

NOTE
Made by hand; the second cue overlaps the first,
which the spec allows.

STYLE
::cue { color: yellow; }

REGION
id:fred width:40% lines:3

intro
00:00:01.000 --> 00:00:04.000 line:0 align:start
<v Roger Bingham>We are in New York City
and it's <i>cold</i> &amp; <c.loud>windy</c>

00:02.500 --> 00:05.000
Overlapping, in the short mm:ss.ttt form

NOTE a one-line note between cues

2
00:00:00.500 --> 00:00:01.500 position:10%
Earlier cue, written later
"""

SRT_SAMPLE = (
    "\ufeff1\r\n"
    "00:00:01,000 --> 00:00:02,500\r\n"
    '<font color="#ffff00">Hello</font> <I>there</I>\r\n'
    "\r\n"
    "2\r\n"
    "00:00:03,000 --> 00:00:04,000 X1:100 X2:200 Y1:10 Y2:50\r\n"
    "{\\an8}On top\r\n"
    "R&D < 3 --> <b>bold</b>\r\n"
    "\r\n"
)

CP1252_SRT = "1\r\n00:00:01,000 --> 00:00:02,000\r\nCafé déjà vu, naïve\r\n"


def test_webvtt_with_header_notes_style_ids_settings_and_multiline_payloads() -> None:
    document = parse_captions(WEBVTT_SAMPLE.encode(), filename="episode.vtt")
    assert document.source_format == "webvtt"
    assert document.cues == (
        Cue(500, 1500, "Earlier cue, written later", "2", "position:10%"),
        Cue(
            1000,
            4000,
            "<v Roger Bingham>We are in New York City\nand it's <i>cold</i> &amp; "
            "<c.loud>windy</c>",
            "intro",
            "line:0 align:start",
        ),
        Cue(2500, 5000, "Overlapping, in the short mm:ss.ttt form"),
    )


def _vtt(*lines: str) -> bytes:
    return "\n".join(["WEBVTT", "", *lines]).encode()


def _srt(*lines: str) -> bytes:
    return "\r\n".join(lines).encode()


def test_srt_with_crlf_bom_font_tags_and_override_codes() -> None:
    document = parse_captions(SRT_SAMPLE.encode(), filename="episode.srt")
    assert document.source_format == "srt"
    assert document.cues == (
        Cue(1000, 2500, "Hello <i>there</i>", "1"),
        Cue(3000, 4000, "On top\nR&amp;D &lt; 3 --&gt; <b>bold</b>", "2"),
    )


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(CP1252_SRT.encode("cp1252"), id="cp1252"),
        pytest.param(CP1252_SRT.encode("utf-16"), id="utf-16"),
        pytest.param("\ufeff".encode("utf-16-be") + CP1252_SRT.encode("utf-16-be"), id="utf-16be"),
        pytest.param(CP1252_SRT.encode("utf-8"), id="utf-8"),
        pytest.param(CP1252_SRT.replace("\r\n", "\r").encode(), id="cr-only"),
    ],
)
def test_srt_encodings_and_line_endings(data: bytes) -> None:
    (cue,) = parse_captions(data).cues
    assert cue == Cue(1000, 2000, "Café déjà vu, naïve", "1")


def test_webvtt_with_cr_line_endings_and_bom() -> None:
    data = b"\xef\xbb\xbfWEBVTT\r\r00:01.000 --> 00:02.000\rone\rtwo\r"
    assert parse_captions(data).cues == (Cue(1000, 2000, "one\ntwo"),)


def test_content_decides_the_format_and_the_extension_only_hints() -> None:
    srt = b"1\n00:00:01,000 --> 00:00:02,000\nHi\n"
    assert parse_captions(srt, filename="misnamed.vtt").source_format == "srt"
    vtt = b"WEBVTT\n\n00:01.000 --> 00:02.000\nHi\n"
    assert parse_captions(vtt, filename="misnamed.srt").source_format == "webvtt"
    with pytest.raises(CaptionError, match="expected a cue number"):
        parse_captions(b"Hi there\n00:00:01,000 --> 00:00:02,000\n", filename="x.SRT")


def test_empty_payloads_overlaps_and_missing_blank_lines_are_accepted() -> None:
    vtt = _vtt("00:01.000 --> 00:03.000", "", "00:02.000 --> 00:04.000", "B",
               "00:05.000 --> 00:06.000", "C")  # fmt: skip
    assert [(c.start_ms, c.text) for c in parse_captions(vtt).cues] == [
        (1000, ""),
        (2000, "B"),
        (5000, "C"),
    ]
    srt = _srt("1", "00:00:01,000 --> 00:00:02,000", "", "2", "00:00:03,000 --> 00:00:04,000",
               "B", "3", "00:00:05,000 --> 00:00:06,000", "C")  # fmt: skip
    assert [(c.identifier, c.text) for c in parse_captions(srt).cues] == [
        ("1", ""),
        ("2", "B"),
        ("3", "C"),
    ]


def test_payloads_become_valid_webvtt_cue_text() -> None:
    payload = (
        "a < b & c <I>x</I> &eacute; &bogus; &#233; &#0; <c.red.big>r</c> <00:00:01.500>t "
        "<lang fr>oui</lang> <ruby>漢<rt>kan</rt></ruby> <script>"
    )
    data = f"WEBVTT\n\n00:01.000 --> 00:02.000\n{payload}\n \t \n".encode()
    ((cue),) = parse_captions(data).cues
    assert cue.text == (
        "a &lt; b &amp; c &lt;I&gt;x&lt;/I&gt; &eacute; &amp;bogus; &#233; &amp;#0; "
        "<c.red.big>r</c> <00:00:01.500>t <lang fr>oui</lang> <ruby>漢<rt>kan</rt></ruby> "
        "&lt;script&gt;"
    )
    # In SRT '-->' is text; even inside what would be a tag it must not reach a WebVTT file.
    srt = parse_captions(b"1\n00:00:01,000 --> 00:00:02,000\n<c.x-->y</c> -->\n").cues[0]
    assert srt.text == "&lt;c.x--&gt;y</c> --&gt;"
    nul = parse_captions(b"WEBVTT\n\n00:01.000 --> 00:02.000\na\x00b\n").cues[0]
    assert nul.text == "a\ufffdb"


ERRORS = [
    ("neither", b"Hello\nworld\n", None, 1, "neither WebVTT (starts with 'WEBVTT') nor SRT"),
    ("vtt-hint", b"WEBVTTX\n", "a.vtt", 1, "must start with the line 'WEBVTT', found 'WEBVTTX'"),
    ("empty", b"", None, 1, "no cues"),
    ("blank", b"\r\n \r\n", None, 1, "no cues"),
    ("notes-only", _vtt("NOTE nothing here"), None, 1, "no cues"),
    ("arrow", _vtt("00:00:01.000 -> 00:00:02.000", "x"), None, 3,
     "expected a timing line hh:mm:ss.ttt or mm:ss.ttt --> hh:mm:ss.ttt or mm:ss.ttt, found "
     "'00:00:01.000 -> 00:00:02.000'"),
    ("arrow-after-id", _vtt("id", "00:00:01.000 - 00:00:02.000"), None, 4,
     "expected a timing line"),
    ("stamp", _vtt("00:00:01 --> 00:00:02.000"), None, 3,
     "bad start time '00:00:01': expected hh:mm:ss.ttt or mm:ss.ttt"),
    ("digits", _vtt("00:0:01.000 --> 00:00:02.000"), None, 3,
     "bad start time 00:0:01.000: expected hh:mm:ss.ttt or mm:ss.ttt (two-digit minutes"),
    ("comma", _vtt("00:00:01,000 --> 00:00:02,000"), None, 3,
     "start time 00:00:01,000: WebVTT puts '.' before the milliseconds"),
    ("minutes", _vtt("00:61:00.000 --> 01:00:00.000"), None, 3,
     "minutes 61 out of range 00-59 in start time 00:61:00.000"),
    ("seconds", _vtt("00:00:01.000 --> 00:00:60.000"), None, 3,
     "seconds 60 out of range 00-59 in end time 00:00:60.000"),
    ("hours", _srt("1", "100:00:00,000 --> 100:00:01,000"), None, 2,
     "hours 100 out of range 00-99 in start time 100:00:00,000"),
    ("text-arrow", _vtt("00:01.000 --> 00:02.000", "a --> b"), None, 4,
     "only a timing line may hold '-->', found 'a --> b'"),
    ("two-arrows", _vtt("00:01.000 --> 00:02.000 --> 00:03.000"), None, 3, "a second '-->'"),
    ("vtt-stray", _vtt("00:01.000 --> 00:02.000", "A", "", "Thanks for watching"), None, 6,
     "'Thanks for watching' is not part of a cue (a blank line ends a cue's text)"),
    ("srt-number", _srt("1", "00:00:01,000 --> 00:00:02,000", "A", "", "x2",
                        "00:00:03,000 --> 00:00:04,000", "B"), None, 5,
     "expected a cue number (an SRT cue is a number, hh:mm:ss,ttt --> hh:mm:ss,ttt, text), "
     "found 'x2'"),
    ("srt-stray", _srt("1", "00:00:01,000 --> 00:00:02,000", "A", "", "", "Subtitles by ACME"),
     None, 6, "expected a cue number (an SRT cue is a number"),
    ("srt-no-timing", _srt("1", "00:00:01,000 --> 00:00:02,000", "A", "", "2"), None, 6,
     "expected the timing line hh:mm:ss,ttt --> ... of cue 2"),
    ("srt-broken-arrow", _srt("1", "00:00:01,000 - 00:00:02,000", "A"), None, 2,
     "expected a timing line hh:mm:ss,ttt --> hh:mm:ss,ttt, found '00:00:01,000 - 00:00:02,000'"),
    ("srt-no-hours", _srt("1", "00:01,000 --> 00:02,000"), None, 2,
     "bad start time '00:01,000': expected hh:mm:ss,ttt"),
    ("srt-trailer", _srt("1", "00:00:01,000 --> 00:00:02,000 align:left", "A"), None, 2,
     "unexpected text after the end time: 'align:left'"),
    ("vtt-not-utf8", b"WEBVTT\n\n00:01.000 --> 00:02.000\ncaf\xe9\n", None, 4,
     "byte 0xe9 is not utf-8 text (WebVTT must be UTF-8)"),
    ("vtt-bom-not-utf8", b"\xef\xbb\xbfWEBVTT\r\n\r\ncaf\xe9", None, 3, "byte 0xe9 is not utf-8"),
    ("vtt-utf16", "WEBVTT\n\n00:01.000 --> 00:02.000\nx\n".encode("utf-16"), None, 1,
     "this WebVTT file is UTF-16, but WebVTT must be UTF-8"),
    ("srt-not-cp1252", b"1\r00:00:01,000 --> 00:00:02,000\r\xe9\x81\r", None, 3,
     "byte 0x81 is not cp1252 text, nor UTF-8"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("data", "filename", "line", "message"),
    [pytest.param(*case[1:], id=case[0]) for case in ERRORS],
)
def test_refusals_name_the_line(data: bytes, filename: str | None, line: int, message: str) -> None:
    with pytest.raises(CaptionError) as caught:
        parse_captions(data, filename=filename)
    assert caught.value.line == line
    assert message in caught.value.message
    assert str(caught.value) == f"line {line}: {caught.value.message}"


def test_end_before_start_reads_like_the_api_will_say_it() -> None:
    data = _vtt(*["00:00:01.000 --> 00:00:02.000", "ok", ""] * 3, "00:00:05.000 --> 00:00:03.000")
    with pytest.raises(CaptionError) as caught:
        parse_captions(data)
    assert str(caught.value) == "line 12: end time 00:00:03.000 is before start time 00:00:05.000"
    with pytest.raises(CaptionError, match=r"line 3: end time 00:02\.000 equals the start time"):
        parse_captions(_vtt("00:02.000 --> 00:02.000", "x"))


def test_size_and_cue_count_limits() -> None:
    data = _vtt(*["00:01.000 --> 00:02.000", "x", ""] * 3)
    assert len(data) == 88
    with pytest.raises(CaptionError, match=r"^line 1: the file is 88 bytes, over the limit of 87$"):
        parse_captions(data, max_bytes=87)
    assert len(parse_captions(data, max_bytes=88, max_cues=3).cues) == 3
    with pytest.raises(CaptionError, match=r"^line 9: more than 2 cues$"):
        parse_captions(data, max_cues=2)


def test_caption_errors_survive_pickling() -> None:
    error = pickle.loads(pickle.dumps(CaptionError(3, "bad")))  # noqa: S301 (our own bytes)
    assert (error.line, error.message, str(error)) == (3, "bad", "line 3: bad")


def test_to_webvtt_writes_ids_settings_empty_payloads_and_the_timestamp_map() -> None:
    document = CaptionDocument(
        (Cue(0, 1500, "<i>Hi</i>\nthere", "a", "line:0"), Cue(3_600_000, 3_600_001, "")),
        "srt",
    )
    assert to_webvtt(document, timestamp_map=(900_000, 10_000)) == (
        "WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:900000,LOCAL:00:00:10.000\n\n"
        "a\n00:00:00.000 --> 00:00:01.500 line:0\n<i>Hi</i>\nthere\n\n"
        "01:00:00.000 --> 01:00:00.001\n"
    )
    assert to_webvtt(document).startswith("WEBVTT\n\na\n")
    with pytest.raises(ValueError, match="MPEGTS"):
        to_webvtt(document, timestamp_map=(2**33, 0))


def test_the_latest_cue_time_reads_back() -> None:
    document = CaptionDocument((Cue(MAX_MS - 1, MAX_MS, "last"),), "webvtt")
    assert "99:59:59.998 --> 99:59:59.999" in to_webvtt(document)
    assert parse_captions(to_webvtt(document).encode()) == document


@pytest.mark.parametrize(
    ("cue", "message"),
    [
        (lambda: Cue(5, 5, "x"), "need 0 <= start < end"),
        (lambda: Cue(0, MAX_MS + 1, "x"), "need 0 <= start < end <= 359999999"),
        (lambda: Cue(0, 1, "a\n\nb"), "blank line"),
        (lambda: Cue(0, 1, "a --> b"), "'-->'"),
        (lambda: Cue(0, 1, "x", identifier=""), "identifier"),
        (lambda: Cue(0, 1, "x", identifier="a\nb"), "identifier"),
        (lambda: Cue(0, 1, "x", settings="line:0\n"), "settings"),
    ],
)
def test_a_cue_that_webvtt_cannot_hold_is_refused(cue: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        cue()  # type: ignore[operator]


def test_segments_repeat_boundary_cues_keep_empty_segments_and_drop_cues_past_the_end(
    caplog: pytest.LogCaptureFixture,
) -> None:
    a, b, c = Cue(500, 1500, "A"), Cue(1500, 2500, "B"), Cue(1900, 2000, "C")
    d, e = Cue(5000, 7000, "D"), Cue(6000, 6500, "E")
    document = CaptionDocument((a, b, c, d, e), "webvtt")
    with caplog.at_level(logging.WARNING, logger="packager.captions"):
        segments = segment_webvtt(
            document, [0, 2000, 4000, 5000, 6000], timeline_offset_us=1_400_000
        )
    header = "WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:126000,LOCAL:00:00:00.000\n"
    assert len(segments) == 4 and all(s.startswith(header) for s in segments)
    cues = [parse_captions(s.encode()).cues if "-->" in s else () for s in segments]
    assert cues == [(a, b, c), (b,), (), (d,)]
    assert segments[2] == header
    assert "1 cues start at or after the media's end (6000 ms)" in caplog.text


@pytest.mark.parametrize(
    ("offset_us", "mpegts"),
    [(0, 0), (5, 0), (11, 1), (50, 5), (1_400_000, 126_000), (23_220, 2090)],
)
def test_mpegts_is_the_offset_on_the_90khz_clock_rounded_half_up(
    offset_us: int, mpegts: int
) -> None:
    assert mpegts_for(offset_us) == mpegts


@pytest.mark.parametrize(
    ("boundaries", "offset_us", "message"),
    [
        ([0], 0, "N\\+1 >= 2 edges"),
        ([1000, 2000], 0, "from 0"),
        ([0, 2000, 2000], 0, "strictly increase"),
        ([0, 2000], -1, "negative"),
        ([0, 2000], 2**40, "33-bit"),
    ],
)
def test_bad_segment_arguments_are_refused(
    boundaries: list[int], offset_us: int, message: str
) -> None:
    document = CaptionDocument((Cue(0, 1, "x"),), "webvtt")
    with pytest.raises(ValueError, match=message):
        segment_webvtt(document, boundaries, timeline_offset_us=offset_us)


# Cue text as our reader leaves it: plain characters, allowed markup, character references.
_CHARACTERS = st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="<>&")
_MARKUP = st.sampled_from(
    ["<i>", "</i>", "<b>", "</b>", "<c.yellow>", "</c>", "<v Bob>", "</v>", "&amp;", "&lt;",
     "&gt;", "&nbsp;", "&#x263A;", "<00:00:01.000>", "<ruby>", "<rt>", "</rt>", "</ruby>"]
)  # fmt: skip
_LINE = st.lists(st.one_of(st.text(_CHARACTERS, min_size=1, max_size=12), _MARKUP), min_size=1)
_TEXT = st.lists(st.builds("".join, _LINE), max_size=3).map("\n".join)
_ONE_LINE = st.text(_CHARACTERS, min_size=1, max_size=20).filter(
    lambda s: s.strip() != "" and "-->" not in s
)
_SETTINGS = st.sampled_from(["", "line:0", "align:start position:10%", "region:fred"])


@st.composite
def cues(draw: st.DrawFn) -> Cue:
    start = draw(st.integers(0, 3 * 3_600_000))
    end = start + draw(st.integers(1, 20_000))
    text = draw(_TEXT.filter(lambda t: not t or all(line.strip() for line in t.split("\n"))))
    return Cue(start, end, text, draw(st.none() | _ONE_LINE), draw(_SETTINGS))


def _document(found: list[Cue]) -> CaptionDocument:
    return CaptionDocument(tuple(sorted(found, key=lambda cue: cue.start_ms)), "webvtt")


@settings(database=None, max_examples=300)
@given(st.lists(cues(), min_size=1, max_size=30))
def test_to_webvtt_round_trips_any_cues(found: list[Cue]) -> None:
    document = _document(found)
    assert parse_captions(to_webvtt(document).encode()).cues == document.cues


@settings(database=None, max_examples=300)
@given(
    st.lists(cues(), min_size=1, max_size=30),
    st.lists(st.integers(1, 4 * 3_600_000), min_size=1, max_size=12, unique=True),
    st.integers(0, 10_000_000),
)
def test_every_cue_lands_in_exactly_the_segments_it_overlaps(
    found: list[Cue], inner: list[int], offset_us: int
) -> None:
    document = _document(found)
    edges = [0, *sorted(inner)]
    segments = segment_webvtt(document, edges, timeline_offset_us=offset_us)
    assert len(segments) == len(edges) - 1
    for index, segment in enumerate(segments):
        low, high = edges[index], edges[index + 1]
        expected = tuple(c for c in document.cues if c.start_ms < high and c.end_ms > low)
        assert f"MPEGTS:{mpegts_for(offset_us)},LOCAL:00:00:00.000\n" in segment
        if expected:
            assert parse_captions(segment.encode()).cues == expected
        else:
            assert "-->" not in segment


def _ffmpeg_reads(ffmpeg: Path, path: Path) -> str:
    """FFmpeg's WebVTT demuxer reads the file and its muxer writes the cues it understood."""
    done = subprocess.run(
        [
            str(ffmpeg),
            "-v",
            "error",
            "-i",
            str(path),
            "-map",
            "0",
            "-c",
            "copy",
            "-f",
            "webvtt",
            "-",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stderr) == (0, "")
    return done.stdout


def test_ffmpeg_reads_our_webvtt_as_we_wrote_it(ffmpeg: Path, tmp_path: Path) -> None:
    vtt, srt = parse_captions(WEBVTT_SAMPLE.encode()), parse_captions(SRT_SAMPLE.encode())
    document = _document([*vtt.cues, *srt.cues, Cue(5000, 6000, "")])
    files = [
        to_webvtt(document),
        *segment_webvtt(document, [0, 2000, 4000, 9000, 12_000], timeline_offset_us=80_000),
    ]
    assert "-->" not in files[-1]  # a header-only segment, which FFmpeg must read too
    for index, text in enumerate(files):
        path = tmp_path / f"{index}.vtt"
        path.write_text(text, encoding="utf-8")
        again = _ffmpeg_reads(ffmpeg, path)
        expected = parse_captions(text.encode()).cues if "-->" in text else ()
        assert (parse_captions(again.encode()).cues if "-->" in again else ()) == expected


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("en", "en"), ("EN", "en"), ("eng", "en"), ("fre", "fr"), ("fra", "fr"), ("ger", "de"),
        ("iw", "he"), ("pt-br", "pt-BR"), ("pt_BR", "pt-BR"), ("zh-hant", "zh-Hant"),
        ("ZH-hant-tw", "zh-Hant-TW"), ("und", "und"), ("es-419", "es-419"),
        ("en-Latn-US", "en-US"), (" fr-CA ", "fr-CA"), ("sr-Cyrl", "sr-Cyrl"), ("fil", "fil"),
    ],
)  # fmt: skip
def test_language_tags_are_normalised(tag: str, expected: str) -> None:
    assert normalise_language(tag) == expected


@pytest.mark.parametrize(
    ("tag", "message"),
    [
        ("", "not a BCP 47 language tag"),
        ("english", "not a BCP 47 language tag"),
        ("en--us", "not a BCP 47 language tag"),
        ("xx", "not a registered language tag"),
        ("123", "not a registered language tag"),
        ("abcd", "not a registered language tag"),
        ("x-klingon", "the language subtag must be 2 or 3 letters"),
        ("en-GB-oxendict", "not variants, extensions or private use"),
        ("en-u-ca-gregory", "not variants, extensions or private use"),
        ("en-x-foo", "not variants, extensions or private use"),
    ],
)
def test_bad_language_tags_are_refused(tag: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        normalise_language(tag)


def test_caption_kinds() -> None:
    assert CAPTION_KINDS == ("subtitles", "captions")


def test_the_caption_modules_are_a_leaf_library() -> None:
    forbidden = ("aiohttp", "transcoder", "streamcore", "origin", "catalog_api", "workers")
    root = Path(__file__).parents[3] / "packager"
    for path in sorted(root.glob("caption*.py")):
        tree = ast.parse(path.read_text())
        names = [
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
        ]
        names += [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
        assert not [n for n in names if n.split(".")[0] in forbidden], path.name
