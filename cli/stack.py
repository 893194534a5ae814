"""``streamcore up``, ``down`` and ``status``: the local stack."""

from __future__ import annotations

import signal
import subprocess
import time
from dataclasses import asdict
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer
from rich.table import Table

from cli.assets import ingest_folder
from cli.common import (
    JsonOption,
    console,
    err_console,
    fail,
    print_json,
    settings_or_exit,
)
from devstack import control, demo, run_state, scaling
from devstack.bootstrap import BootstrapError
from devstack.supervisor import Supervisor, SupervisorError
from streamcore.settings import Settings

_STATE_STYLE = {"healthy": "green", "unhealthy": "yellow", "down": "red"}


def status_table(report: control.StackStatus) -> Table:
    table = Table(
        title=f"StreamCore stack ({report.env}) — {report.data_dir}", title_justify="left"
    )
    table.add_column("service", no_wrap=True)
    table.add_column("state")
    table.add_column("url", overflow="fold")
    table.add_column("pid", justify="right")
    table.add_column("detail", overflow="fold")
    for row in report.services:
        _add_row(table, row)
        if row.name == "postgres":  # its replicas right below it
            for replica in report.replicas:
                _add_row(table, replica, _replica_detail(replica))
    for pool in report.worker_pools:
        _add_row(table, pool)
    for instance in report.instances:
        _add_row(table, instance, _instance_detail(instance))
    ffmpeg = report.ffmpeg
    if "error" in ffmpeg:
        table.add_row("ffmpeg", f"[red]{ffmpeg['state']}[/]", "", "", ffmpeg["error"])
    else:
        table.add_row(
            "ffmpeg",
            "[green]available[/]",
            ffmpeg["path"],
            "",
            f"{ffmpeg['version']} ({ffmpeg['source']})",
        )
    return table


def _add_row(table: Table, row: control.ServiceStatus, detail: str | None = None) -> None:
    style = _STATE_STYLE[row.state]
    table.add_row(
        row.name,
        f"[{style}]{row.state}[/]",
        row.url,
        str(row.pid or ("external" if not row.managed else "-")),
        detail or row.detail or "",
    )


def _instance_detail(row: control.InstanceStatus) -> str | None:
    if row.state != "healthy":
        return row.detail
    if row.gateway is None:
        return "not behind the gateway (yet)"
    cpu = f", CPU {row.cpu_percent:.0f}%" if row.cpu_percent is not None else ""
    return (
        f"gateway {row.gateway} ({row.check}), weight {row.weight}, {row.sessions} in flight{cpu}"
    )


def _replica_detail(row: control.ReplicaStatus) -> str | None:
    if row.state == "healthy" and row.lag_s is not None:
        return f"standby, {row.lag_s:.1f} s behind the primary"
    return row.detail


def up(
    detach: Annotated[
        bool, typer.Option("--detach", "-d", help="Return once every service is healthy.")
    ] = False,
    json_output: JsonOption = False,
    ingest: Annotated[
        Path | None,
        typer.Option(
            "--ingest",
            exists=True,
            file_okay=False,
            help="Once up, upload the videos in this folder (skipping ones already there), "
            "wait until they are processed and print their playback URLs.",
        ),
    ] = None,
    replicas: Annotated[
        int | None,
        typer.Option(
            "--replicas",
            min=0,
            max=8,
            help="Run this many streaming replicas of the local PostgreSQL (reads are spread "
            "over them); default: stack.postgres_replicas. Holds until `streamcore down`.",
        ),
    ] = None,
) -> None:
    """Start the local stack and wait until every service is healthy.

    Stays in the foreground until Ctrl-C, which stops everything; with --detach it returns
    and `streamcore down` stops it later.
    """
    settings = settings_or_exit()
    if replicas is not None:
        settings = run_state.with_replicas(settings, replicas)
    _terminate_as_interrupt()
    try:
        with err_console.status("starting the stack…") as spinner:
            process = control.start(
                settings,
                foreground=not detach,
                on_step=lambda step: spinner.update(f"{step}…") if not json_output else None,
            )
    except control.StackAlreadyRunning as exc:
        fail(str(exc))
    except (control.StackError, SupervisorError, BootstrapError, OSError) as exc:
        fail(f"the stack did not start: {exc}")
    except KeyboardInterrupt:
        err_console.print("interrupted; everything started was stopped")
        raise typer.Exit(130) from None
    report = control.status(settings)
    if json_output:
        print_json(report.to_dict())
    else:
        console.print(status_table(report))
    if detach or process is None:
        if ingest is not None:
            _ingest(settings, ingest)
        if not json_output:
            console.print("stack is up; stop it with [bold]streamcore down[/]")
        return
    _watch_until_interrupted(settings, process, ingest)


def _ingest(settings: Settings, folder: Path) -> None:
    """Ingest the folder, then print the demo account to sign in with beside the player URLs."""
    ingest_folder(settings, folder)
    try:
        account = demo.ensure(settings)
    except demo.DemoAccountError as exc:
        err_console.print(f"[yellow]no demo account:[/] {exc}")
        return
    console.print("[bold]Sign in to the player with the demo account[/]"
                  + (" (just created)" if account.created else ""))  # fmt: skip
    _print_account(account)
    try:
        operator = demo.ensure_operator(settings)
    except demo.DemoAccountError as exc:
        err_console.print(f"[yellow]no demo operator:[/] {exc}")
        return
    console.print(f"[bold]Admin dashboard[/]: {settings.gateway.entry_url}/admin/dashboard/",
                  highlight=False)  # fmt: skip
    _print_account(operator)


def _print_account(account: demo.DemoAccount) -> None:
    console.print(f"  email:    {account.email}", highlight=False)
    if account.password is None:
        console.print("  password: unknown (it was not created from this data folder)")
    else:
        console.print(f"  password: {account.password}", highlight=False)


def _terminate_as_interrupt() -> None:
    # `kill` (SIGTERM) stops a foreground stack as cleanly as Ctrl-C does.
    def handler(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)
    # A shell starting us in the background may have set SIGINT to "ignore"; we want Ctrl-C.
    signal.signal(signal.SIGINT, signal.default_int_handler)


def _watch_until_interrupted(
    settings: Settings, process: subprocess.Popen[bytes], ingest: Path | None
) -> None:
    """Ingest if asked, then report services that stop; on Ctrl-C, stop everything."""
    supervisor = Supervisor(settings.stack.data_dir)
    seen: dict[str, str] = {}
    try:
        if ingest is not None:
            _ingest(settings, ingest)
        console.print("stack is up; press [bold]Ctrl-C[/] to stop it")
        while process.poll() is None:
            try:
                states = supervisor.processes()
            except (OSError, SupervisorError):
                states = {}
            for name, info in states.items():
                # First seen stopped is a spare instance slot never started: not news.
                if seen.get(name) not in (None, info.state) or (
                    name not in seen and info.state not in ("RUNNING", "STOPPED")
                ):
                    err_console.print(
                        f"[yellow]{name}[/] is now {info.state}: {info.description} "
                        f"(log: {info.log_file})"
                    )
                seen[name] = info.state
            time.sleep(1.0)
        err_console.print("[red]supervisord exited; the stack is down[/]")
        raise typer.Exit(1)
    except (KeyboardInterrupt, typer.Exit) as exc:
        with err_console.status("stopping the stack…"):
            control.stop(settings)
            process.wait(timeout=30)
        console.print("stack stopped")
        if isinstance(exc, typer.Exit):
            raise


def down(json_output: JsonOption = False) -> None:
    """Stop a running stack (started with --detach, or in another terminal)."""
    settings = settings_or_exit()
    with err_console.status("stopping the stack…"):
        was_running = control.stop(settings)
    if json_output:
        print_json({"stopped": was_running, "data_dir": str(settings.stack.data_dir)})
    elif was_running:
        console.print("stack stopped")
    else:
        console.print(f"no stack is running from {settings.stack.data_dir}")


def status(json_output: JsonOption = False) -> None:
    """Each service's state, probed over a real connection, and URL. Exit 1 if any is unhealthy."""
    settings = settings_or_exit()
    report = control.status(settings)
    if json_output:
        print_json(report.to_dict())
    else:
        console.print(status_table(report))
    if not report.healthy:
        raise typer.Exit(1)


def restart(
    service: Annotated[
        str,
        typer.Argument(
            help="A service of `streamcore status` (postgres, worker-transcode, ...); `worker` "
            "restarts every worker pool."
        ),
    ],
    json_output: JsonOption = False,
) -> None:
    """Restart one service of the running local stack (stopped, dead or running) and wait until
    it is healthy; the other services are not touched."""
    settings = settings_or_exit()
    try:
        with err_console.status(f"restarting {service}…"):
            restarted = control.restart_service(settings, service)
    except (control.StackError, SupervisorError) as exc:
        fail(f"{service} was not restarted: {exc}")
    if json_output:
        print_json({"restarted": restarted})
    else:
        console.print(f"restarted {', '.join(restarted)}")


def scale(
    service: Annotated[
        str, typer.Argument(help="catalog, streaming, origin, auth or subscriptions.")
    ],
    count: Annotated[int, typer.Argument(help="How many instances should run (from 1).", min=1)],
    json_output: JsonOption = False,
) -> None:
    """Start or stop instances of a web service at runtime, without a failed request: new ones
    take traffic after their first healthy check; removed ones are drained first."""
    settings = settings_or_exit()
    try:
        with err_console.status(f"scaling {service} to {count}…") as progress:
            result = scaling.scale(
                settings, service, count, on_step=lambda step: progress.update(step)
            )
    except (control.StackError, SupervisorError) as exc:
        fail(f"{service} was not scaled: {exc}")
    if json_output:
        print_json(asdict(result))
    else:
        console.print(
            f"{service}: {len(result.before)} → {len(result.after)} instances"
            + (f"; started {', '.join(result.started)}" if result.started else "")
            + (f"; stopped {', '.join(result.stopped)}" if result.stopped else "")
        )


def register(app: typer.Typer) -> None:
    app.command()(up)
    app.command()(down)
    app.command()(status)
    app.command()(restart)
    app.command()(scale)
