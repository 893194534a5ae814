"""Settings: one typed object, validated at load, errors naming the key."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from streamcore.settings import SettingsError, load_settings


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Write a config file and point STREAMCORE_CONFIG at it; return a loader."""
    for name in [n for n in __import__("os").environ if n.startswith("STREAMCORE_")]:
        monkeypatch.delenv(name)

    def write(values: dict) -> Path:
        path = tmp_path / "config.yaml"
        values.setdefault("stack", {}).setdefault("data_dir", str(tmp_path / "data"))
        path.write_text(yaml.safe_dump(values))
        monkeypatch.setenv("STREAMCORE_CONFIG", str(path))
        return path

    return write


def test_dev_config_loads_and_generates_secrets_once(config, tmp_path: Path) -> None:
    config({"env": "dev", "stack": {"generate_secrets": True}})
    first = load_settings()
    second = load_settings()
    secrets_file = tmp_path / "data" / "secrets.yaml"
    assert secrets_file.stat().st_mode & 0o077 == 0, "secrets must be private to their owner"
    assert first.origin.signing_keys["k1"].get_secret_value()
    assert first.origin.signing_keys == second.origin.signing_keys
    assert first.s3.secret_access_key == second.s3.secret_access_key


def test_unknown_key_is_rejected_by_name(config) -> None:
    config({"stack": {"generate_secrets": True}, "s3": {"endpoint": "http://x"}})
    with pytest.raises(SettingsError, match=r"s3\.endpoint: Extra inputs are not permitted"):
        load_settings()


def test_invalid_value_names_the_key_and_reason(config) -> None:
    config({"stack": {"generate_secrets": True, "redis_port": 80}})
    with pytest.raises(SettingsError, match=r"stack\.redis_port: Input should be greater than"):
        load_settings()


def test_environment_overrides_the_file(config, monkeypatch: pytest.MonkeyPatch) -> None:
    config({"stack": {"generate_secrets": True}, "s3": {"region": "eu-west-1"}})
    monkeypatch.setenv("STREAMCORE_S3__REGION", "ap-south-1")
    monkeypatch.setenv("STREAMCORE_DATABASE_URL", "postgresql://u:p@db.example:5432/x")
    settings = load_settings()
    assert settings.s3.region == "ap-south-1"
    assert not settings.manages_postgres
    assert settings.postgres_dsn == "postgresql://u:p@db.example:5432/x"


def test_bad_external_url_is_refused(config, monkeypatch: pytest.MonkeyPatch) -> None:
    config({"stack": {"generate_secrets": True}})
    monkeypatch.setenv("STREAMCORE_REDIS_URL", "http://not-redis")
    with pytest.raises(
        SettingsError, match=r"redis_url: Value error, must be a redis://|redis_url: must be"
    ):
        load_settings()


def test_production_without_secrets_names_every_missing_one(config) -> None:
    config({"env": "prod", "stack": {"generate_secrets": False}})
    with pytest.raises(SettingsError) as error:
        load_settings()
    message = str(error.value)
    for key in (
        "s3.access_key_id",
        "origin.signing_keys",
        "postgres.password",
    ):
        assert key in message


def test_production_takes_secrets_from_the_environment(
    config, monkeypatch: pytest.MonkeyPatch
) -> None:
    config({"env": "prod", "stack": {"generate_secrets": False}})
    monkeypatch.setenv("STREAMCORE_DATABASE_URL", "postgresql://u:p@db:5432/x")
    monkeypatch.setenv("STREAMCORE_S3__ACCESS_KEY_ID", "AK")
    monkeypatch.setenv("STREAMCORE_S3__SECRET_ACCESS_KEY", "SK")
    monkeypatch.setenv("STREAMCORE_AUTH__SERVICE_ACCOUNTS", '{"ci": {"key": "key-1"}}')
    monkeypatch.setenv("STREAMCORE_ORIGIN__SIGNING_KEYS", '{"2026-11": "s3kr1t-value"}')
    monkeypatch.setenv("STREAMCORE_ORIGIN__ACTIVE_KEY_ID", "2026-11")
    settings = load_settings()
    assert settings.origin.active_key_id == "2026-11"
    assert "s3kr1t-value" not in repr(settings)


def test_active_key_must_be_a_known_key(config, monkeypatch: pytest.MonkeyPatch) -> None:
    config({"stack": {"generate_secrets": True}, "origin": {"active_key_id": "k9"}})
    with pytest.raises(
        SettingsError, match=r"origin: Value error, active_key_id 'k9'|origin: active_key_id 'k9'"
    ):
        load_settings()


def test_shipped_configs_are_valid(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("dev", "test"):
        monkeypatch.setenv("STREAMCORE_ENV", name)
        monkeypatch.setenv("STREAMCORE_STACK__DATA_DIR", str(tmp_path / name))
        assert load_settings().env == name


def test_cli_reports_bad_settings_without_a_traceback(config) -> None:
    config({"stack": {"generate_secrets": True, "postgres_port": "not-a-port"}})
    result = subprocess.run(
        [sys.executable, "-m", "cli", "status"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "stack.postgres_port" in result.stderr
    assert "Traceback" not in result.stderr
