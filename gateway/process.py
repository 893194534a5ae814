"""Running HAProxy: the config written where it runs from, and the one command line.

The local stack's supervisord (devstack) and the tests start HAProxy with `argv(settings)`
after `write_config(settings)`; an external HAProxy (``gateway.url`` set) is given the same
rendered file by its operator instead.
"""

from __future__ import annotations

import os
from pathlib import Path

from gateway.config import render
from gateway.paths import GatewayPaths, gateway_paths
from streamcore.binaries import haproxy
from streamcore.settings import Settings


def write_config(settings: Settings, text: str | None = None) -> Path:
    """Write the rendered config (or `text`) to its place, atomically; return its path."""
    paths = prepare(settings)
    temporary = paths.config.with_suffix(".cfg.tmp")
    temporary.write_text(text if text is not None else render(settings))
    # rename() is atomic: a reload never reads a half-written file.
    temporary.replace(paths.config)
    return paths.config


def prepare(settings: Settings) -> GatewayPaths:
    """Create the run folder and the (private) socket folder; return the paths."""
    paths = gateway_paths(settings)
    paths.run_dir.mkdir(parents=True, exist_ok=True)
    if paths.socket_dir != paths.run_dir:
        paths.socket_dir.mkdir(mode=0o700, exist_ok=True)
        # A folder under /tmp someone else made first is not ours to put sockets in.
        if paths.socket_dir.stat().st_uid != os.getuid():
            raise PermissionError(f"{paths.socket_dir} belongs to another user")
    return paths


def argv(settings: Settings, binary: Path | None = None) -> list[str]:
    """HAProxy in the foreground (supervised), master-worker, with the master CLI."""
    paths = gateway_paths(settings)
    return [
        str(binary or haproxy()),
        # -W: master-worker (reloads without dropping connections); -db: stay in the
        # foreground, for supervisord; -S: the master CLI, where `reload` is asked.
        "-W",
        "-db",
        "-S",
        f"{paths.master_socket},mode,600",
        "-f",
        str(paths.config),
    ]


def check_argv(config: Path, binary: Path | None = None) -> list[str]:
    """`haproxy -c`: parse and validate a config without binding anything (not quiet: its
    warnings and alerts are the reason given when it refuses one)."""
    return [str(binary or haproxy()), "-c", "-f", str(config)]
