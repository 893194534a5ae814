"""The `streamcore` command line (typer + rich): a component of its own, above the kernel."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from cli import (
    accounts,
    analytics,
    assets,
    audit,
    captions,
    cdn,
    db,
    history,
    jobs,
    ratelimit,
    recommendations,
    signin,
    stack,
    subscriptions,
    titles,
)

app = typer.Typer(
    name="streamcore",
    help="StreamCore: upload, transcode, package and serve adaptive video.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def _global(
    env: Annotated[
        str | None,
        typer.Option(
            "--env",
            help="Settings environment: configs/<env>.yaml (default: $STREAMCORE_ENV or dev).",
        ),
    ] = None,
) -> None:
    if env is not None:
        # Exported so that every process the command starts reads the same settings.
        os.environ["STREAMCORE_ENV"] = env


stack.register(app)
signin.register(app)
app.command()(audit.audit)
app.command()(assets.upload)
app.command("play-url")(cdn.play_url)
app.add_typer(assets.app, name="assets")
app.add_typer(captions.app, name="captions")
app.add_typer(cdn.app, name="cdn")
app.add_typer(jobs.app, name="jobs")
app.add_typer(db.app, name="db")
app.add_typer(titles.app, name="titles")
app.add_typer(accounts.app, name="accounts")
app.add_typer(subscriptions.app, name="subscriptions")
app.add_typer(ratelimit.app, name="ratelimit")
app.add_typer(recommendations.app, name="recommendations")
app.add_typer(history.app, name="history")
app.add_typer(analytics.app, name="analytics")


def main() -> None:
    app()
