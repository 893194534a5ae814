"""CMCD (CTA-5004) query data: what players send, read as the origin and the edge read it."""

from __future__ import annotations

from urllib.parse import quote

from multidict import MultiDict

from streamcore import cmcd

# What hls.js 1.7 sends for a video segment (the query value, decoded).
HLS_JS = (
    'bl=12000,br=1200,bs,cid="6a1f3c1e-2d7a-4b8e-9c4f-0e5d1f2a3b4c",d=4000,dl=11000,mtp=9800,'
    'nor="seg_00004.m4s",ot=v,rtp=4000,sf=h,sid="3f0c2a9e-5b1d-4e7f-8a6c-2d9e1b0f4a3c",st=v,su,'
    "tb=2800,v=1"
)


def test_every_key_hls_js_sends_is_read_with_its_type() -> None:
    data = cmcd.parse(HLS_JS)
    assert data == {
        "bl": 12000, "br": 1200, "bs": True, "cid": "6a1f3c1e-2d7a-4b8e-9c4f-0e5d1f2a3b4c",
        "d": 4000, "dl": 11000, "mtp": 9800, "nor": "seg_00004.m4s", "ot": "v", "rtp": 4000,
        "sf": "h", "sid": "3f0c2a9e-5b1d-4e7f-8a6c-2d9e1b0f4a3c", "st": "v", "su": True,
        "tb": 2800, "v": 1,
    }  # fmt: skip


def test_booleans_decimals_and_escaped_strings() -> None:
    assert cmcd.parse('bs=false,pr=1.25,sid="a\\"b"') == {"bs": False, "pr": 1.25, "sid": 'a"b'}


def test_unknown_keys_wrong_types_and_junk_are_dropped_not_fatal() -> None:
    data = cmcd.parse('zz=1,br="high",ot="v",sid=unquoted,bl=-,,,;;,d=4000,com.example-x=1')
    assert data == {"d": 4000}


def test_empty_oversized_and_overlong_strings_give_nothing() -> None:
    assert cmcd.parse("") == {}
    assert cmcd.parse("br=1," * 1000) == {}
    assert cmcd.parse(f'sid="{"x" * 65}"') == {}


def test_of_query_reads_the_decoded_parameter() -> None:
    query = MultiDict({"CMCD": "br=800,ot=v", "token": "t"})
    assert cmcd.of_query(query) == {"br": 800, "ot": "v"}
    assert cmcd.of_query(MultiDict({"token": "t"})) == {}


def test_without_drops_only_the_cmcd_parameter() -> None:
    raw = f"token=abc&CMCD={quote(HLS_JS)}&Signature=x%3D&Key-Pair-Id=K"
    assert cmcd.without(raw) == "token=abc&Signature=x%3D&Key-Pair-Id=K"
    assert cmcd.without("token=abc") == "token=abc"
    assert cmcd.without("CMCDX=1&token=a") == "CMCDX=1&token=a"
