"""Which runtime API the gateway's client talks to: the stack's socket, or a configured one."""

from __future__ import annotations

from pathlib import Path

from gateway.paths import gateway_paths
from gateway.runtime import for_settings
from streamcore.settings import Settings


def _with_socket(settings: Settings, admin_socket: str | None) -> Settings:
    gateway = settings.gateway.model_copy(update={"admin_socket": admin_socket})
    return settings.model_copy(update={"gateway": gateway})


def test_the_stacks_own_socket_by_default(settings: Settings) -> None:
    assert for_settings(settings).address == gateway_paths(settings).admin_socket


def test_an_external_haproxys_tcp_or_unix_socket(settings: Settings) -> None:
    assert for_settings(_with_socket(settings, "lb.internal:9999")).address == ("lb.internal", 9999)
    unix = for_settings(_with_socket(settings, "/run/haproxy/admin.sock")).address
    assert unix == Path("/run/haproxy/admin.sock")
