"""Process supervision for the local stack, delegated to supervisord.

supervisord already does what a hand-written supervisor would get subtly wrong: process
groups, stop signals with a grace period before SIGKILL, log files per program, daemonizing,
and a control socket. We only render its config and speak XML-RPC to it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import xmlrpc.client
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from supervisor.xmlrpc import SupervisorTransport

# Marks every process of one stack, so that `down` can prove nothing was left behind.
STACK_MARKER_ENV = "STREAMCORE_STACK_DIR"


class SupervisorError(Exception):
    """supervisord could not be started, reached or stopped."""


@dataclass(frozen=True)
class Program:
    """One supervised process."""

    name: str
    command: Sequence[str]
    user: str | None = None
    directory: Path | None = None
    environment: Mapping[str, str] = field(default_factory=dict)
    # postgres wants SIGINT for a fast shutdown; most others stop cleanly on SIGTERM.
    stop_signal: str = "TERM"
    stop_wait_s: int = 20
    # Web instances behind the gateway are restarted when they die (the registry brings them
    # back into rotation); everything else stays down, so that a crash shows in `status`.
    autorestart: bool = False


@dataclass(frozen=True)
class ProcessInfo:
    name: str
    state: str  # supervisord's state name: RUNNING, STARTING, EXITED, FATAL, STOPPED, ...
    pid: int | None
    description: str
    log_file: Path


def _quote(arg: str) -> str:
    # supervisord splits `command=` with shlex; '%' must be doubled for its own expansion.
    escaped = arg.replace("%", "%%")
    if not escaped or any(c in escaped for c in " \t\"'\\#;"):
        return "'" + escaped.replace("'", "'\"'\"'") + "'"
    return escaped


def _env_line(environment: Mapping[str, str]) -> str:
    parts = []
    for key, value in environment.items():
        safe = value.replace("%", "%%").replace('"', '\\"')
        parts.append(f'{key}="{safe}"')
    return ",".join(parts)


class Supervisor:
    """A supervisord instance whose config, socket, pid file and logs live under one folder."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.run_dir = data_dir / "run"
        self.log_dir = data_dir / "logs"
        self.config_path = self.run_dir / "supervisord.conf"
        self.socket_path = self.run_dir / "supervisor.sock"
        self.pid_path = self.run_dir / "supervisord.pid"

    def log_file(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"

    def write_config(self, programs: Sequence[Program]) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        lines = [
            "[unix_http_server]",
            f"file={self.socket_path}",
            "chmod=0700",
            "",
            "[supervisord]",
            f"logfile={self.log_dir / 'supervisord.log'}",
            f"pidfile={self.pid_path}",
            f"childlogdir={self.log_dir}",
            f"directory={self.data_dir}",
            "logfile_maxbytes=10MB",
            "",
            "[rpcinterface:supervisor]",
            "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
            "",
        ]
        for program in programs:
            environment = {STACK_MARKER_ENV: str(self.data_dir), **program.environment}
            lines += [
                f"[program:{program.name}]",
                "command=" + " ".join(_quote(arg) for arg in program.command),
                # Started in order by the stack after their dependencies are healthy.
                "autostart=false",
                f"autorestart={'true' if program.autorestart else 'false'}",
                "startsecs=1",
                "startretries=0",
                f"stopsignal={program.stop_signal}",
                f"stopwaitsecs={program.stop_wait_s}",
                # Signals go to the whole process group: celery's pool children, weed's servers.
                "stopasgroup=true",
                "killasgroup=true",
                "redirect_stderr=true",
                f"stdout_logfile={self.log_file(program.name)}",
                "stdout_logfile_maxbytes=20MB",
                "stdout_logfile_backups=2",
                f"environment={_env_line(environment)}",
            ]
            if program.user:
                lines.append(f"user={program.user}")
            if program.directory:
                lines.append(f"directory={program.directory}")
            lines.append("")
        self.config_path.write_text("\n".join(lines), encoding="utf-8")
        self.config_path.chmod(0o600)

    # -- lifecycle -------------------------------------------------------------------------

    def pid(self) -> int | None:
        """The pid of a live supervisord for this folder, or None."""
        try:
            pid = int(self.pid_path.read_text(encoding="utf-8").strip())
        except (FileNotFoundError, ValueError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            return pid
        return pid if self._answers() else None

    def _answers(self) -> bool:
        try:
            return bool(self._rpc("getState")["statename"] == "RUNNING")
        except (OSError, xmlrpc.client.Fault, xmlrpc.client.ProtocolError):
            return False

    def start(self, *, foreground: bool, timeout_s: float = 15.0) -> subprocess.Popen[bytes] | None:
        """Start supervisord; in foreground mode it stays our child, else it daemonizes."""
        command = [sys.executable, "-m", "supervisor.supervisord", "-c", str(self.config_path)]
        process: subprocess.Popen[bytes] | None
        if foreground:
            # Its own session: Ctrl-C reaches us, and we stop the stack in order.
            process = subprocess.Popen(
                [*command, "--nodaemon"],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        else:
            result = subprocess.run(
                command, stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False
            )
            if result.returncode != 0:
                raise SupervisorError(f"supervisord failed to start: {result.stderr.strip()}")
            process = None
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.pid() is not None:
                return process
            if process is not None and process.poll() is not None:
                break
            time.sleep(0.1)
        raise SupervisorError(
            f"supervisord did not come up; see {self.log_dir / 'supervisord.log'}"
        )

    def shutdown(self, timeout_s: float = 60.0) -> None:
        """Stop every program (each by its stop signal, then SIGKILL) and supervisord itself."""
        pid = self.pid()
        if pid is None:
            return
        with contextlib.suppress(OSError, xmlrpc.client.Fault, xmlrpc.client.ProtocolError):
            self._rpc("shutdown")
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not _alive(pid):
                return
            time.sleep(0.1)
        # It may have ended since the last look: gone is what we wanted.
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)

    # -- programs --------------------------------------------------------------------------

    def start_program(self, name: str) -> None:
        try:
            self._rpc("startProcess", str(name), True)
        except xmlrpc.client.Fault as fault:
            if "ALREADY_STARTED" in fault.faultString:
                return
            tail = self.log_tail(name)
            raise SupervisorError(
                f"{name} failed to start ({fault.faultString}).\n{tail}"
            ) from None

    def stop_program(self, name: str) -> None:
        """Stop one program by its stop signal (then SIGKILL after its grace) and wait."""
        try:
            self._rpc("stopProcess", str(name), True)
        except xmlrpc.client.Fault as fault:
            if "NOT_RUNNING" in fault.faultString:
                return
            raise SupervisorError(f"{name} could not be stopped ({fault.faultString})") from None

    def processes(self) -> dict[str, ProcessInfo]:
        infos: list[dict[str, Any]] = self._rpc("getAllProcessInfo")
        return {
            info["name"]: ProcessInfo(
                name=info["name"],
                state=info["statename"],
                pid=info["pid"] or None,
                description=info["description"],
                log_file=self.log_file(info["name"]),
            )
            for info in infos
        }

    def log_tail(self, name: str, lines: int = 15) -> str:
        path = self.log_file(name)
        try:
            tail = path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
        except FileNotFoundError:
            return f"(no log at {path})"
        return f"last lines of {path}:\n" + "\n".join(f"  | {line}" for line in tail)

    def _rpc(self, method: str, *args: Any) -> Any:
        """Call one ``supervisor.*`` XML-RPC method over the unix socket, then close it."""
        transport = SupervisorTransport(serverurl=f"unix://{self.socket_path}")
        try:
            proxy = xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport)
            return getattr(proxy.supervisor, method)(*args)
        finally:
            transport.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child of ours is dead for our purposes.
    with contextlib.suppress(ChildProcessError):
        waited, _ = os.waitpid(pid, os.WNOHANG)
        if waited == pid:
            return False
    return True


def stack_processes(data_dir: Path) -> Iterator[int]:
    """Pids of processes still carrying this stack's marker in their environment."""
    import psutil

    marker = str(data_dir)
    for proc in psutil.process_iter(["pid"]):
        with contextlib.suppress(psutil.Error):
            if proc.pid != os.getpid() and proc.environ().get(STACK_MARKER_ENV) == marker:
                yield proc.pid
