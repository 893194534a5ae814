"""Where the gateway's files live: under ``<stack.data_dir>/run``, beside supervisord's.

The config HAProxy runs (``haproxy.cfg``), the server-state file a reload restores slots
from (``haproxy.state``), and two Unix sockets: the admin stats socket (the runtime API the
registrar and the CLI use) and the master CLI (``reload``, ``show proc``).

A Unix socket's path must fit ``sun_path`` (108 bytes with its NUL), and HAProxy binds each
socket as ``<path>.<pid>.tmp`` before renaming it (src/sock_unix.c), so the path itself must
stay well under that: HAProxy says "limit usually 97". Test data folders are deep
(``/tmp/bt-500/test_something_long0/stack0/run``), so when a socket path would pass
`SOCKET_PATH_LIMIT`, the sockets move to a short folder under /tmp named by a hash of the
data folder: still one per stack, the same every time it is computed, and nothing else moves.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from streamcore.settings import Settings

# 107 usable bytes, less ".<pid>.tmp" (pid_max is 4194304: up to 12 bytes), less a margin.
SOCKET_PATH_LIMIT = 90
_ADMIN = "haproxy-admin.sock"
_MASTER = "haproxy-master.sock"


@dataclass(frozen=True)
class GatewayPaths:
    run_dir: Path
    config: Path
    state_file: Path
    scrape_targets: Path  # Prometheus file_sd targets, kept by the registrar
    socket_dir: Path
    admin_socket: Path
    master_socket: Path


def gateway_paths(settings: Settings) -> GatewayPaths:
    run_dir = settings.stack.data_dir / "run"
    socket_dir = _socket_dir(run_dir, settings.stack.data_dir)
    return GatewayPaths(
        run_dir=run_dir,
        config=run_dir / "haproxy.cfg",
        state_file=run_dir / "haproxy.state",
        scrape_targets=run_dir / "scrape-targets.json",
        socket_dir=socket_dir,
        admin_socket=socket_dir / _ADMIN,
        master_socket=socket_dir / _MASTER,
    )


def _socket_dir(run_dir: Path, data_dir: Path) -> Path:
    longest = max(len(_ADMIN), len(_MASTER))
    if len(str(run_dir)) + 1 + longest <= SOCKET_PATH_LIMIT:
        return run_dir
    digest = hashlib.sha256(str(data_dir).encode()).hexdigest()[:16]
    # /tmp itself, not $TMPDIR: a short root is the point, and TMPDIR can be as deep as the
    # data folder. The folder is created private (0700) by gateway.process.prepare().
    return Path("/tmp") / f"streamcore-gw-{digest}"  # noqa: S108
