"""Registrations as stored in the registry: JSON both ways, and the ones refused."""

from __future__ import annotations

import os

import pytest

from streamcore.registry import InvalidRegistration, Registration, key


def test_round_trip() -> None:
    reg = Registration("origin", 2, "10.0.0.7", 18121, 18221, pid=42, started_at=1.5)
    assert Registration.from_json(reg.to_json()) == reg
    assert Registration.from_json(reg.to_json().encode()) == reg
    assert (
        reg.key == key("origin", "10.0.0.7", 18121) == "streamcore:registry:origin:10.0.0.7:18121"
    )


def test_defaults_name_this_process() -> None:
    assert Registration("catalog", 1, "127.0.0.1", 1, 2).pid == os.getpid()


@pytest.mark.parametrize("host", ["0.0.0.0", "::"])  # noqa: S104 (refused, never bound)
def test_a_listening_address_is_not_a_reachable_one(host: str) -> None:
    with pytest.raises(InvalidRegistration, match="advertise_host"):
        Registration("catalog", 1, host, 18100, 18200)


def test_a_hostname_is_accepted() -> None:
    assert Registration("catalog", 1, "catalog-1.internal", 18100, 18200).host


@pytest.mark.parametrize("raw", ["{", "[]", '{"service": "catalog"}', "null"])
def test_malformed_values_are_refused(raw: str) -> None:
    with pytest.raises(ValueError, match="not a registration"):
        Registration.from_json(raw)
