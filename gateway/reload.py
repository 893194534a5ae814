"""Hitless reloads of the stack's HAProxy when its rendered config changes.

1. Render the config; unchanged means nothing to do.
2. Check the new config with ``haproxy -c`` before anything is replaced.
3. Save the servers' state (``show servers state``) into the server-state file, so that the
   new worker starts with every assigned slot's address, port, agent port and state.
4. Put the new config in place (atomically) and ask the master to reload (``reload`` on the
   master CLI, which answers once the new worker has started or failed). The new worker
   takes the listening sockets from the old one (no connection refused in between); the old
   one finishes its requests and leaves (at the latest after ``hard-stop-after``).

A reload that fails puts the previous config back, so that the next one starts from a file
that worked; the old worker keeps serving meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from gateway.config import render
from gateway.paths import gateway_paths
from gateway.process import check_argv, write_config
from gateway.runtime import RuntimeApiUnreachable, for_settings
from streamcore.settings import Settings

log = logging.getLogger(__name__)

# A reload parses the config and forks the new worker: seconds at most.
MASTER_TIMEOUT_S = 60.0


class ReloadFailed(Exception):
    """The new config was refused (by ``haproxy -c`` or by the master); HAProxy's words."""


async def reload(settings: Settings, *, force: bool = False) -> bool:
    """Reload the stack's HAProxy if its config changed (or if `force`); True if it did."""
    paths = gateway_paths(settings)
    new = render(settings)
    old = paths.config.read_text() if paths.config.exists() else None
    if new == old and not force:
        return False
    candidate = paths.config.with_name("haproxy.cfg.new")
    candidate.write_text(new)
    try:
        await check_config(candidate)
    finally:
        candidate.unlink(missing_ok=True)
    await save_state(settings)
    write_config(settings, new)
    try:
        report = await master_command(paths.master_socket, "reload")
    except RuntimeApiUnreachable:
        _restore(settings, old)
        raise
    if not report.startswith("Success=1"):
        _restore(settings, old)
        raise ReloadFailed(f"HAProxy refused the reload:\n{report.strip()}")
    log.info("gateway reloaded (%s)", paths.config)
    return True


def reload_sync(settings: Settings, *, force: bool = False) -> bool:
    """`reload` for the CLI."""
    return asyncio.run(reload(settings, force=force))


async def check_config(path: Path) -> None:
    """Raise ReloadFailed with HAProxy's messages if it would not load `path`."""
    process = await asyncio.create_subprocess_exec(
        *check_argv(path),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    if process.returncode != 0:
        raise ReloadFailed(f"haproxy -c refused {path}:\n{output.decode(errors='replace')}")


async def save_state(settings: Settings) -> Path:
    """Write ``show servers state`` to the server-state file (atomically); return its path."""
    state_file = gateway_paths(settings).state_file
    text = await for_settings(settings).servers_state_text()
    temporary = state_file.with_name(state_file.name + ".tmp")
    temporary.write_text(text)
    temporary.replace(state_file)
    return state_file


async def master_command(socket: Path, command: str, timeout_s: float = MASTER_TIMEOUT_S) -> str:
    """One command on the master CLI; its whole answer."""
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_unix_connection(socket), timeout_s)
    except (OSError, TimeoutError) as exc:
        raise RuntimeApiUnreachable(f"{socket}: {exc or type(exc).__name__}") from exc
    try:
        writer.write(command.encode() + b"\n")
        # Half-close: the master CLI answers and closes once it sees the end of input.
        writer.write_eof()
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), timeout_s)
    except (OSError, TimeoutError) as exc:
        raise RuntimeApiUnreachable(f"{socket}: {exc or type(exc).__name__}") from exc
    finally:
        writer.close()
    return answer.decode(errors="replace")


def _restore(settings: Settings, old: str | None) -> None:
    if old is not None:
        write_config(settings, old)
        log.warning("gateway reload failed; the previous config is back in place")
