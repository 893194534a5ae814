"""Settings for unit tests: no stack, no environment."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import SecretStr

from streamcore.secrets import new_signing_key_pem
from streamcore.settings import LocalEdgeCdn, Settings

SIGNING_KEY = new_signing_key_pem()


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    # The environment outranks these values; a session stack may have exported some.
    for name in [n for n in os.environ if n.startswith("STREAMCORE_")]:
        monkeypatch.delenv(name)
    return Settings(
        stack={"data_dir": tmp_path},
        s3={"access_key_id": "a", "secret_access_key": "b"},
        postgres={"password": "p"},
        auth={
            "service_accounts": {"ci": {"key": SecretStr("key")}},
            "signing_keys": {"a1": SIGNING_KEY},
            "active_key_id": "a1",
        },
        origin={"signing_keys": {"k1": "s1", "k2": "s2"}, "active_key_id": "k2", "port": 18081},
        cdns=[LocalEdgeCdn(kind="local_edge", name="edge", port=18082)],
    )
