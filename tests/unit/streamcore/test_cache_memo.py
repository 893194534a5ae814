"""Memo: one result per key, bounded, least recently used out, failures not kept; and the
JSON bytes kept bodies are made of."""

from __future__ import annotations

import json

import pytest
from aiohttp import web

from streamcore.cache.envelope import encode_value
from streamcore.cache.memo import Memo
from streamcore.cache.result import CacheResult
from streamcore.web.json_bytes import encode, json_bytes_response


def counting(calls: list[str], text: str) -> bytes:
    calls.append(text)
    return text.encode()


def test_a_key_is_made_once() -> None:
    kept: Memo[tuple[bytes, object], bytes] = Memo(10)
    calls: list[str] = []
    raw = b'{"id":1}'
    assert kept.get_or_make((raw, ("a", 1)), lambda: counting(calls, "A")) == b"A"
    assert kept.get_or_make((raw, ("a", 1)), lambda: counting(calls, "again")) == b"A"
    assert kept.get_or_make((raw, ("b", 1)), lambda: counting(calls, "B")) == b"B"
    assert calls == ["A", "B"]


def test_a_new_value_is_another_key_even_for_the_same_variant() -> None:
    kept: Memo[tuple[bytes, object], bytes] = Memo(10)
    calls: list[str] = []
    kept.get_or_make((b'{"v":1}', "x"), lambda: counting(calls, "one"))
    # After a write the cache holds other bytes: the old rendering is never their answer.
    assert kept.get_or_make((b'{"v":2}', "x"), lambda: counting(calls, "two")) == b"two"
    assert calls == ["one", "two"]


def test_the_least_recently_used_goes_first_and_zero_keeps_nothing() -> None:
    kept: Memo[tuple[bytes, object], bytes] = Memo(2)
    calls: list[str] = []
    for raw in (b"1", b"2", b"1", b"3"):
        kept.get_or_make((raw, None), lambda raw=raw: counting(calls, raw.decode()))
    assert len(kept) == 2
    kept.get_or_make((b"1", None), lambda: counting(calls, "1 again"))
    kept.get_or_make((b"2", None), lambda: counting(calls, "2 again"))
    assert calls == ["1", "2", "3", "2 again"]
    none: Memo[tuple[bytes, object], bytes] = Memo(0)
    none.get_or_make((b"1", None), lambda: counting(calls, "a"))
    none.get_or_make((b"1", None), lambda: counting(calls, "b"))
    assert len(none) == 0 and calls[-2:] == ["a", "b"]


def test_a_failure_is_not_kept() -> None:
    kept: Memo[tuple[bytes, object], bytes] = Memo(10)

    def hidden() -> bytes:
        raise LookupError("hidden")

    with pytest.raises(LookupError):
        kept.get_or_make((b"1", None), hidden)
    assert len(kept) == 0


def test_json_bytes_decode_to_what_aiohttp_sent() -> None:
    value = {"title": "Amélie 東京 \u2028", "rating": 7.25, "big": 1e16, "tiny": 1e-7,
             "sum": 0.1 + 0.2, "neg": -0.0, "int": 2**62, "none": None, "z": [1, 2],
             "created_at": "2026-01-01T00:00:00+00:00", "a": {"nested": True}}  # fmt: skip
    before = web.json_response(value, headers={"Vary": "Authorization"})
    sent = json_bytes_response(encode(value), headers={"Vary": "Authorization"})
    assert isinstance(before.body, bytes) and isinstance(sent.body, bytes)
    decoded = json.loads(sent.body)
    assert decoded == json.loads(before.body) == value
    assert list(decoded) == list(value)  # key order kept
    assert "Amélie 東京".encode() in sent.body  # UTF-8, as the charset says
    assert dict(sent.headers) == dict(before.headers)


def test_cached_values_decode_as_json_does() -> None:
    value = {"id": "5b1f6e2c-9d7a-4c3e-8f1a-2b6d0e9c7a41", "t": "Amélie", "r": 7.25, "x": [1e16]}
    raw = encode_value(value)
    assert CacheResult(raw, stale=False, tier="local").value == json.loads(raw) == value


def test_a_weight_bound_drops_the_least_recently_used_and_never_keeps_one_too_heavy() -> None:
    kept: Memo[str, bytes] = Memo(100, max_weight=10, weigh=lambda key, body: len(body))
    kept.get_or_make("a", lambda: b"aaaa")
    kept.get_or_make("b", lambda: b"bbbb")
    kept.get_or_make("a", lambda: b"unused")  # "a" is now the most recently used
    kept.get_or_make("c", lambda: b"cccc")  # 12 > 10: "b" goes
    assert kept.weight == 8 and len(kept) == 2
    assert kept.get_or_make("b", lambda: b"made again") == b"made again"
    assert kept.get_or_make("huge", lambda: b"x" * 11) == b"x" * 11
    assert kept.weight <= 10 and kept.get_or_make("huge", lambda: b"again") == b"again"
