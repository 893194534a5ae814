"""``streamcore login``, ``logout`` and ``whoami``: a person's sign-in for the CLI.

The tokens are kept by cli/credentials.py (0600), so that the commands that follow run as this
person and the services audit them as such.
"""

from __future__ import annotations

import socket
import sys
from typing import Annotated

import typer

from cli.api_client import ApiClient, ApiClientError
from cli.common import ApiOption, JsonOption, api_client, console, fail, print_json

PasswordStdinOption = Annotated[
    bool,
    typer.Option(
        "--password-stdin", help="Read the password from the first line of standard input."
    ),
]


def read_password_stdin() -> str:
    """The first line of stdin, without its line ending (`echo pw | streamcore login ...`)."""
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        fail("--password-stdin: standard input holds no password")
    return password


def login(
    email: Annotated[
        str | None, typer.Option("--email", "-e", help="The account's email (asked if not given).")
    ] = None,
    password_stdin: PasswordStdinOption = False,
    device_name: Annotated[
        str | None,
        typer.Option("--device-name", help="How this sign-in is listed among your devices."),
    ] = None,
    json_output: JsonOption = False,
    api: ApiOption = None,
) -> None:
    """Sign in as a person: admin commands then run as you, and are audited as you."""
    email = email or typer.prompt("Email")
    if password_stdin:
        password = read_password_stdin()
    else:
        password = typer.prompt("Password", hide_input=True)
    device = device_name or f"streamcore CLI on {socket.gethostname()}"
    with api_client(api) as client:
        try:
            person = client.login(email, password, device)
            me = client.me()
        except ApiClientError as exc:
            fail(f"sign-in failed: {exc}")
    if json_output:
        print_json({"account": me, "credentials": str(client.store.path),
                    "device_id": person.device_id, "expires_at": person.expires_at})  # fmt: skip
        return
    console.print(
        f"signed in as [bold]{me['email']}[/] ({me['role']}) at {client.base_url}; "
        f"tokens kept in {client.store.path}",
        highlight=False,
    )


def logout(json_output: JsonOption = False, api: ApiOption = None) -> None:
    """Sign this device out (its tokens stop working) and forget the stored tokens."""
    with api_client(api) as client:
        try:
            was_signed_in = client.logout()
        except ApiClientError as exc:
            fail(f"the API could not sign this device out ({exc}); the tokens were forgotten")
    if json_output:
        print_json({"signed_out": was_signed_in, "api": client.base_url})
    elif was_signed_in:
        console.print(f"signed out of {client.base_url}", highlight=False)
    else:
        console.print(f"not signed in at {client.base_url}", highlight=False)


def whoami(json_output: JsonOption = False, api: ApiOption = None) -> None:
    """Who the CLI's commands run as: the signed-in person, or the service account."""
    with api_client(api) as client:
        body = _identity(client)
    if json_output:
        print_json(body)
    elif body.get("email"):
        console.print(f"{body['email']} ({body['role']}, account {body['id']})", highlight=False)
    else:
        console.print(f"service account key ({body['identity']}); `streamcore login` to sign in")


def _identity(client: ApiClient) -> dict[str, object]:
    if client.person is None:
        return {"identity": "service account" if client.has_key else "anonymous"}
    try:
        return {"identity": "person", **client.me()}
    except ApiClientError as exc:
        fail(str(exc))


def register(app: typer.Typer) -> None:
    app.command()(login)
    app.command()(logout)
    app.command()(whoami)
