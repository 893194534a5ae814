"""Common Media Client Data (CTA-5004): the ``CMCD`` query parameter players add to requests.

The value is a comma-separated list of ``key=value`` pairs (the query parameter itself is
percent-encoded; aiohttp's ``request.query`` decodes it): strings in double quotes (with ``\\"``
and ``\\\\`` escaped), tokens bare (``ot=v``), numbers bare, and a boolean true as the key
alone (``bs``). Only the keys below are kept, each checked against its type; anything else,
or a malformed pair, is dropped: the data is the player's word, used for analytics only, and
never decides access (the URL token does: streamcore/signing.py).

https://cdn.cta.tech/cta/media/media/resources/standards/pdfs/cta-5004-final.pdf
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import Enum

PARAM = "CMCD"
MAX_LENGTH = 2048  # characters of one value; longer ones are not read at all
_MAX_STRING = 64  # sid and cid are UUIDs here; CTA-5004 allows 64 characters


class Kind(Enum):
    INTEGER = "integer"
    DECIMAL = "decimal"
    STRING = "string"
    BARE = "token"  # a bare token: ot=v
    BOOLEAN = "boolean"


# CTA-5004 §3.3 keys, and the type of each value.
KEYS: Mapping[str, Kind] = {
    "br": Kind.INTEGER,  # encoded bitrate, kbps
    "bl": Kind.INTEGER,  # buffer length, ms
    "bs": Kind.BOOLEAN,  # buffer starvation since the last request
    "cid": Kind.STRING,  # content id
    "d": Kind.INTEGER,  # object duration, ms
    "dl": Kind.INTEGER,  # deadline, ms
    "mtp": Kind.INTEGER,  # measured throughput, kbps
    "nor": Kind.STRING,  # next object request
    "nrr": Kind.STRING,  # next range request
    "ot": Kind.BARE,  # object type: m, a, v, av, i, c, tt, k, o
    "pr": Kind.DECIMAL,  # playback rate
    "rtp": Kind.INTEGER,  # requested maximum throughput, kbps
    "sf": Kind.BARE,  # streaming format: d (DASH), h (HLS), s, o
    "sid": Kind.STRING,  # session id
    "st": Kind.BARE,  # stream type: v (VOD), l (live)
    "su": Kind.BOOLEAN,  # startup: the object is needed urgently
    "tb": Kind.INTEGER,  # top bitrate, kbps
    "v": Kind.INTEGER,  # CMCD version
}

_INTEGER = re.compile(r"^-?\d{1,15}$")
_DECIMAL = re.compile(r"^-?\d{1,15}(\.\d{1,6})?$")
_TOKEN = re.compile(r"^[A-Za-z][A-Za-z0-9]{0,7}$")
_PAIR = re.compile(r'([a-z]{1,8})(?:=("(?:[^"\\]|\\.)*"|[^,]*))?(?:,|$)')

Value = int | float | str | bool


def parse(value: str) -> dict[str, Value]:
    """The known, well-typed keys of one CMCD value; {} for an empty or oversized one."""
    if not value or len(value) > MAX_LENGTH:
        return {}
    data: dict[str, Value] = {}
    position = 0
    while position < len(value):
        match = _PAIR.match(value, position)
        if match is None:  # a pair we cannot read: skip to the next comma, if any
            comma = value.find(",", position)
            if comma < 0:
                break
            position = comma + 1
            continue
        position = match.end()
        key, raw = match.group(1), match.group(2)
        kind = KEYS.get(key)
        if kind is None:
            continue
        typed = _typed(kind, raw)
        if typed is not None:
            data[key] = typed
    return data


def _typed(kind: Kind, raw: str | None) -> Value | None:
    """`raw` as `kind`, or None when it is not one."""
    if kind is Kind.BOOLEAN:
        return True if raw is None else {"true": True, "false": False}.get(raw)
    if raw is None:
        return None
    if kind is Kind.STRING:
        if len(raw) < 2 or not (raw.startswith('"') and raw.endswith('"')):
            return None
        text = re.sub(r"\\(.)", r"\1", raw[1:-1])
        return text if 0 < len(text) <= _MAX_STRING else None
    if kind is Kind.BARE:
        return raw if _TOKEN.match(raw) else None
    if kind is Kind.INTEGER:
        return int(raw) if _INTEGER.match(raw) else None
    return float(raw) if _DECIMAL.match(raw) else None


def of_query(query: Mapping[str, str]) -> dict[str, Value]:
    """The CMCD data of a request's (decoded) query, {} without any."""
    return parse(query.get(PARAM, ""))


def without(raw_query: str) -> str:
    """A raw query string without its CMCD parameter (the rest exactly as it was): what a
    manifest's URIs may copy, since a player's CMCD data describes one request only."""
    kept = [part for part in raw_query.split("&") if part and part.split("=", 1)[0] != PARAM]
    return "&".join(kept)
