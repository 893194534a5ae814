"""The CLI's accounts commands against the real stack: `accounts create-admin` bootstraps an
admin whose printed password signs in; `login` keeps the tokens in a 0600 file; commands then
run as that person and the audit log names them; `logout` signs the device out and forgets.

Each test has its own config folder (XDG_CONFIG_HOME), so no credentials file is shared with
the user's or another test's.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from streamcore.settings import Settings

pytestmark = pytest.mark.stack


def _email(kind: str) -> str:
    return f"{kind}-{uuid.uuid4().hex[:10]}@example.com"


class Cli:
    """`streamcore ...` as a subprocess, with the test stack's settings (exported by the session
    fixture) and a config folder of its own."""

    def __init__(self, config_home: Path) -> None:
        self.env = {k: v for k, v in os.environ.items() if k != "STREAMCORE_API_KEY"}
        self.env["XDG_CONFIG_HOME"] = str(config_home)
        self.credentials = config_home / "streamcore" / "credentials-test.json"

    def run(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "cli", *args], input=stdin, env=self.env,
            capture_output=True, text=True, check=False, timeout=120,
        )  # fmt: skip

    def ok(self, *args: str, stdin: str | None = None) -> str:
        done = self.run(*args, stdin=stdin)
        assert done.returncode == 0, f"{args}: {done.stderr or done.stdout}"
        return done.stdout

    def json(self, *args: str, stdin: str | None = None) -> Any:
        return json.loads(self.ok(*args, "--json", stdin=stdin))


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path / "config")


def _events(cli: Cli, *filters: str, actor: str, timeout_s: float = 15) -> list[dict[str, Any]]:
    """The audit events matching, once one names `actor` (the log is fed asynchronously)."""
    deadline = time.monotonic() + timeout_s
    while True:
        events: list[dict[str, Any]] = cli.json("audit", "--since", "10m", *filters)
        if any(e["actor"] == actor for e in events) or time.monotonic() > deadline:
            return events
        time.sleep(0.5)


def test_create_admin_login_audit_and_logout(stack: Settings, cli: Cli) -> None:
    email = _email("admin")
    created = cli.ok("accounts", "create-admin", email, "--display-name", "Ada Admin")
    assert f"created admin {email}" in created
    password = created.split("one-time password:", 1)[1].split()[0]
    assert len(password) >= 8

    signed_in = cli.ok("login", "--email", email, "--password-stdin", "--device-name",
                       "pytest CLI", stdin=password + "\n")  # fmt: skip
    assert f"signed in as {email} (admin)" in " ".join(signed_in.split())
    mode = stat.S_IMODE(cli.credentials.stat().st_mode)
    assert mode == 0o600, oct(mode)
    assert stat.S_IMODE(cli.credentials.parent.stat().st_mode) == 0o700
    stored = json.loads(cli.credentials.read_text())
    assert list(stored) == [stack.api_url]
    entry = stored[stack.api_url]
    assert entry["email"] == email and entry["access_token"].count(".") == 2

    me = cli.json("whoami")
    assert (me["identity"], me["email"], me["role"]) == ("person", email, "admin")
    actor = f"account:{me['id']}"

    # Admin commands, as this person: an audited support read at the auth service, a title
    # listing at the catalog, and a CDN purge the CLI makes itself (and audits).
    listed = cli.json("accounts", "list", "--q", email)
    assert [a["email"] for a in listed["items"]] == [email]
    assert listed["items"][0]["profiles"][0]["name"] == "Ada Admin"
    cli.json("titles", "list", "--limit", "1")
    purged = cli.json("cdn", "purge", "--asset", str(uuid.uuid4()))
    assert purged and all(r["state"] in ("completed", "in_progress") for r in purged), purged

    reads = _events(cli, "--kind", "support_read", actor=actor)
    assert any(e["actor"] == actor and e["detail"].get("q") == email for e in reads), reads
    purges = _events(cli, "--kind", "cdn_purged", actor=actor)
    assert any(e["actor"] == actor for e in purges), purges
    logins = cli.json("audit", "--account", me["id"], "--kind", "login")
    assert logins and logins[0]["account_id"] == me["id"]
    table = cli.ok("audit", "--account", me["id"])
    assert "login" in table

    access_token = entry["access_token"]
    assert "signed out of" in cli.ok("logout")
    assert not cli.credentials.exists()
    # The device was signed out at the API, not only forgotten: its refresh token is dead.
    refused = httpx.post(f"{stack.api_url}/v1/auth/refresh",
                         json={"refresh_token": entry["refresh_token"]}, timeout=10)  # fmt: skip
    assert refused.status_code == 401, refused.text
    assert access_token  # (the access token itself dies within its lifetime: the auth tests)
    assert "not signed in" in cli.ok("logout")
    assert cli.json("whoami")["identity"] == "service account"


def test_a_password_from_stdin_and_clear_errors(stack: Settings, cli: Cli) -> None:
    email = _email("chosen")
    body = cli.json("accounts", "create-admin", email, "--password-stdin",
                    stdin="a long enough passphrase\n")  # fmt: skip
    assert body["account"]["email"] == email and "password" not in body

    again = cli.run(
        "accounts", "create-admin", email, "--password-stdin", stdin="another one 123\n"
    )
    assert again.returncode == 1
    assert again.stderr.startswith("error: the admin was not created:"), again.stderr
    assert "Traceback" not in again.stderr and len(again.stderr.strip().splitlines()) <= 2

    wrong = cli.run("login", "--email", email, "--password-stdin", stdin="not the password\n")
    assert wrong.returncode == 1 and "sign-in failed" in wrong.stderr, wrong.stderr
    assert "invalid_credentials" in wrong.stderr and "Traceback" not in wrong.stderr
    assert not cli.credentials.exists()

    cli.ok("login", "-e", email, "--password-stdin", stdin="a long enough passphrase\n")
    # A viewer may not list accounts: 403, said in one line.
    viewer = _email("viewer")
    made = cli.json("accounts", "create-admin", viewer)
    account_id = made["account"]["id"]
    demoted = cli.json("accounts", "set-role", account_id, "viewer")
    assert demoted["role"] == "viewer"
    roles = _events(cli, "--kind", "role_changed", "--account", account_id,
                    actor=f"account:{cli.json('whoami')['id']}")  # fmt: skip
    assert roles and roles[0]["detail"] == {"from": "admin", "to": "viewer"}

    as_viewer = Cli(cli.credentials.parent.parent.parent / "viewer-config")
    as_viewer.ok("login", "-e", viewer, "--password-stdin", stdin=made["password"] + "\n")
    refused = as_viewer.run("accounts", "list")
    assert refused.returncode == 1 and "HTTP 403" in refused.stderr, refused.stderr
    assert "Traceback" not in refused.stderr
    bad_role = as_viewer.run("accounts", "set-role", account_id, "owner")
    assert bad_role.returncode == 2


def test_an_expired_access_token_is_refreshed(stack: Settings, cli: Cli) -> None:
    email = _email("refresh")
    password = cli.json("accounts", "create-admin", email)["password"]
    cli.ok("login", "-e", email, "--password-stdin", stdin=password + "\n")
    stored = json.loads(cli.credentials.read_text())
    before = stored[stack.api_url]
    # As if the access token had expired: the next command refreshes first.
    stored[stack.api_url]["expires_at"] = time.time() - 60
    cli.credentials.write_text(json.dumps(stored))
    assert cli.json("whoami")["email"] == email
    after = json.loads(cli.credentials.read_text())[stack.api_url]
    assert after["refresh_token"] != before["refresh_token"]
    assert after["access_token"] != before["access_token"]
    assert after["expires_at"] > time.time() + 60
    assert stat.S_IMODE(cli.credentials.stat().st_mode) == 0o600

    # A refresh token the API refuses (the device signed out elsewhere): signed out, clearly.
    bearer = {"Authorization": f"Bearer {after['access_token']}"}
    signed_out = httpx.post(f"{stack.api_url}/v1/auth/logout", headers=bearer, timeout=10)
    assert signed_out.status_code == 204, signed_out.text
    stored = json.loads(cli.credentials.read_text())
    stored[stack.api_url]["expires_at"] = time.time() - 60
    cli.credentials.write_text(json.dumps(stored))
    ended = cli.run("whoami")
    assert ended.returncode == 1 and "streamcore login" in ended.stderr, ended.stderr
    assert not cli.credentials.exists()


def test_set_password_lets_an_imported_account_sign_in(stack: Settings, cli: Cli) -> None:
    email = _email("imported")
    key = stack.auth.service_key().get_secret_value()
    resolved = httpx.post(
        f"{stack.api_url}/v1/admin/profiles/resolve",
        headers={"Authorization": f"Bearer {key}"},
        json={"items": [{"account_email": email, "profile_name": "Me"}], "create_missing": True},
        timeout=30,
    )
    assert resolved.status_code == 200 and resolved.json()["items"][0]["created_account"]
    refused = cli.run("login", "--email", email, "--password-stdin", stdin="anything at all\n")
    assert refused.returncode == 1 and "password_not_set" in refused.stderr, refused.stderr
    out = cli.ok("accounts", "set-password", email, "--password-stdin",
                 stdin="an imported passphrase\n")  # fmt: skip
    assert f"{email}: password set" in out
    signed_in = cli.ok("login", "--email", email, "--password-stdin",
                       stdin="an imported passphrase\n")  # fmt: skip
    assert f"signed in as {email} (viewer)" in " ".join(signed_in.split())
