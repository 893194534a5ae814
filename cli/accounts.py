"""``streamcore accounts``: bootstrap the first admin, list accounts, change roles, set a
password (an account an import created has none until then).

What an account may play (streams, renditions, premium titles) is its subscription's plan:
``streamcore subscriptions``."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import typer
from rich.table import Table

from cli.api_client import ApiClient, ApiClientError
from cli.common import (
    ApiOption,
    JsonOption,
    api_call,
    console,
    fail,
    print_json,
    settings_or_exit,
)
from cli.signin import PasswordStdinOption, read_password_stdin
from streamcore.auth.roles import Role

app = typer.Typer(
    help="Accounts (admins): create the first admin, list accounts, set roles and passwords.",
    no_args_is_help=True,
)


def accounts_table(accounts: list[dict[str, Any]]) -> Table:
    table = Table()
    for column in ("id", "email", "name", "role", "profiles", "created"):
        table.add_column(column, overflow="fold")
    for account in accounts:
        profiles = ", ".join(
            f"{p['name']} ({p['maturity']})" for p in account.get("profiles") or []
        )
        table.add_row(
            account["id"], account["email"], account.get("display_name") or "", account["role"],
            profiles, str(account.get("created_at", ""))[:19],
        )  # fmt: skip
    return table


@app.command("create-admin")
def create_admin(
    email: Annotated[str, typer.Argument(help="The new admin's email.")],
    password_stdin: PasswordStdinOption = False,
    display_name: Annotated[
        str | None, typer.Option("--display-name", help="Default: the email's local part.")
    ] = None,
    json_output: JsonOption = False,
    api: ApiOption = None,
) -> None:
    """Create an admin account with the settings' service account key (the bootstrap).

    Prints the generated one-time password, unless one is given on stdin (--password-stdin).
    """
    body: dict[str, Any] = {"email": email, "role": Role.ADMIN.value}
    body["display_name"] = display_name or email.split("@", 1)[0]
    if password_stdin:
        body["password"] = read_password_stdin()
    # Always the service account: there is no admin to sign in as before the first one.
    with ApiClient(settings_or_exit(), base_url=api, as_person=False) as client:
        try:
            created = client.create_account(body)
        except ApiClientError as exc:
            fail(f"the admin was not created: {exc}")
    if json_output:
        print_json(created)
        return
    account = created["account"]
    console.print(f"created admin [bold]{account['email']}[/] (id {account['id']})")
    if created.get("password"):
        console.print(f"one-time password: {created['password']}", highlight=False)
        console.print(f"sign in with: streamcore login --email {account['email']}")


@app.command("list")
def list_command(
    q: Annotated[str | None, typer.Option("--q", help="Only emails or names matching.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=100)] = 50,
    cursor: Annotated[str | None, typer.Option(help="Page after this cursor.")] = None,
    json_output: JsonOption = False,
    api: ApiOption = None,
) -> None:
    """Accounts with their profiles, newest first."""
    params = {"limit": limit, **({"q": q} if q else {}), **({"cursor": cursor} if cursor else {})}
    page = api_call(api, lambda client: client.accounts(params))
    if json_output:
        print_json(page)
        return
    console.print(accounts_table(page["items"]) if page["items"] else "no accounts")
    if page.get("next_cursor"):
        console.print(f"more: --cursor {page['next_cursor']}")


def _account_id(client: ApiClient, ref: str) -> str:
    """An account id, or the id of the one account whose email is `ref`."""
    try:
        return str(uuid.UUID(ref))
    except ValueError:
        pass
    matches = [a for a in client.accounts({"q": ref, "limit": 50})["items"]
               if a["email"].lower() == ref.lower()]  # fmt: skip
    if not matches:
        fail(f"no account with id or email {ref!r}")
    return str(matches[0]["id"])


def _update(
    api: str | None, ref: str, change: dict[str, str], json_output: bool, done: str | None = None
) -> None:
    def call(client: ApiClient) -> dict[str, Any]:
        return client.update_account(_account_id(client, ref), change)

    account = api_call(api, call)
    if json_output:
        print_json(account)
    else:
        console.print(f"{account['email']}: {done or 'role ' + account['role']}", highlight=False)


@app.command("set-role")
def set_role(
    account: Annotated[str, typer.Argument(help="The account's id (or email).")],
    role: Annotated[Role, typer.Argument(help="viewer, creator or admin.")],
    json_output: JsonOption = False,
    api: ApiOption = None,
) -> None:
    """Change an account's role (audited)."""
    _update(api, account, {"role": role.value}, json_output)


@app.command("set-password")
def set_password(
    account: Annotated[str, typer.Argument(help="The account's id (or email).")],
    password_stdin: PasswordStdinOption = False,
    json_output: JsonOption = False,
    api: ApiOption = None,
) -> None:
    """Set an account's password (audited; its devices are signed out). Asked for unless
    --password-stdin."""
    if password_stdin:
        password = read_password_stdin()
    else:
        password = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
    _update(api, account, {"password": password}, json_output, done="password set")
