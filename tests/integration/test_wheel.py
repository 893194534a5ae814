"""StreamCore as a user installs it: the wheel, not the source tree.

The wheel is built from a clean copy of the tree (so no stale ``build/`` leaks in, and the tree
gets none) and installed with ``pip install --target``; every command then runs from a folder
outside the tree with only that target on ``PYTHONPATH``. The project venv supplies the
dependencies; each top-level package is checked to come from the target, so a file missing
from the wheel cannot be papered over by the source tree.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from streamcore.settings import Settings
from tests.processes import free_port, wait_until_healthy

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = {
    "streamcore", "origin", "transcoder", "packager", "cdn_adapters", "catalog_api", "streaming",
    "workers", "cli", "devstack", "configs", "player_web",
}  # fmt: skip
DATA_FILES = [
    "configs/dev.yaml",
    "configs/test.yaml",
    "configs/prod.yaml",
    "configs/ladder.yaml",
    "streamcore/db/migrations/0001_assets.sql",
    "player_web/index.html",
    "player_web/player.js",
    "player_web/player.css",
    "player_web/node_modules/hls.js/dist/hls.min.js",
    "player_web/node_modules/dashjs/dist/modern/umd/dash.all.min.js",
    "player_web/node_modules/swagger-ui-dist/swagger-ui-bundle.js",
]
# Run inside the installed copy: where each package and data file was found.
PROBE = """
import json, sys
from importlib import import_module
from catalog_api.player import PLAYER_DIR, VENDOR
from streamcore.db.migrate import MIGRATIONS_DIR, discover
from streamcore.settings import config_path, load_settings
from workers.processing import worker_ladder
settings = load_settings("test")
print(json.dumps({
    "modules": {name: import_module(name).__file__ for name in sys.argv[1:]},
    "config": str(config_path("test")),
    "ladder_path": str(settings.worker.ladder_path),
    "rungs": len(worker_ladder(settings).rungs),
    "migrations_dir": str(MIGRATIONS_DIR),
    "migrations": len(discover()),
    "player_dir": str(PLAYER_DIR),
    "vendor": [str(PLAYER_DIR / p) for p in VENDOR.values() if (PLAYER_DIR / p).is_file()],
}))
"""


@dataclass(frozen=True)
class Installed:
    wheel: Path
    site: Path  # the --target folder
    cwd: Path  # outside the source tree

    def env(self, base: dict[str, str]) -> dict[str, str]:
        return base | {"PYTHONPATH": str(self.site)}

    def run(self, *argv: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            argv, cwd=self.cwd, env=self.env(env), capture_output=True, text=True, timeout=120
        )


def _clean_copy(destination: Path) -> Path:
    ignored = shutil.ignore_patterns(
        ".git", ".venv", "node_modules", "build", "dist", "*.egg-info", "__pycache__",
        ".streamcore", ".*_cache", "out",
    )  # fmt: skip
    shutil.copytree(ROOT, destination, ignore=ignored)
    # The vendor builds come from `npm ci --prefix player_web` (make install); linked, not
    # copied (node_modules is large), and read through the link by the build.
    (destination / "player_web" / "node_modules").symlink_to(ROOT / "player_web" / "node_modules")
    return destination


def _pip(*args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet", *args],
        check=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    work = tmp_path_factory.mktemp("wheel")
    source = _clean_copy(work / "src")
    _pip("wheel", "--no-deps", "--wheel-dir", str(work / "dist"), str(source))
    (wheel,) = (work / "dist").glob("streamcore-*.whl")
    _pip("install", "--no-deps", "--target", str(work / "site"), str(wheel))
    (work / "run").mkdir()
    return Installed(wheel=wheel, site=work / "site", cwd=work / "run")


def _without_streamcore_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("STREAMCORE_")}


def test_the_wheel_carries_the_configs_migrations_and_player(installed: Installed) -> None:
    with zipfile.ZipFile(installed.wheel) as wheel:
        names = set(wheel.namelist())
    missing = [name for name in DATA_FILES if name not in names]
    assert not missing, f"not in the wheel (was `npm ci --prefix player_web` run?): {missing}"
    # Only the pinned builds, not the rest of node_modules (sources, maps, other bundles).
    vendored = [n for n in names if "/node_modules/" in n and n.endswith((".js", ".css"))]
    assert len(vendored) == 4, vendored


def test_the_installed_copy_finds_its_own_files(installed: Installed) -> None:
    env = _without_streamcore_env() | {"STREAMCORE_STACK__DATA_DIR": str(installed.cwd / "data")}
    probe = installed.run(sys.executable, "-c", PROBE, *sorted(PACKAGES), env=env)
    assert probe.returncode == 0, probe.stderr
    found = json.loads(probe.stdout)
    for name, file in found["modules"].items():
        assert Path(file).is_relative_to(installed.site), f"{name} imported from {file}"
    site = str(installed.site)
    assert found["config"] == f"{site}/configs/test.yaml"
    assert found["ladder_path"] == f"{site}/configs/ladder.yaml"
    assert found["rungs"] == 4
    assert found["migrations_dir"] == f"{site}/streamcore/db/migrations"
    assert found["migrations"] >= 4
    assert found["player_dir"] == f"{site}/player_web"
    assert len(found["vendor"]) == 2

    command = installed.run(str(installed.site / "bin" / "streamcore"), "--help", env=env)
    assert command.returncode == 0, command.stderr
    assert "upload" in command.stdout


@pytest.fixture
def installed_api(installed: Installed, stack: Settings) -> Iterator[str]:
    """The installed copy's catalog API, on a port of its own, against the test stack."""
    port, agent_port = free_port(), free_port()
    env = installed.env(
        dict(os.environ)
        | {
            "STREAMCORE_CATALOG_API__PORT": str(port),
            "STREAMCORE_CATALOG_API__AGENT_PORT": str(agent_port),
        }
    )
    process = subprocess.Popen([sys.executable, "-m", "catalog_api"], cwd=installed.cwd, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(base, process, "the installed catalog API")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=15)


def test_the_installed_api_serves_the_player_and_the_docs(
    installed: Installed, installed_api: str
) -> None:
    page = httpx.get(f"{installed_api}/player/", timeout=5)
    assert page.status_code == 200
    assert "player.js" in page.text
    for url, file in [
        ("/player/vendor/hls.min.js", "player_web/node_modules/hls.js/dist/hls.min.js"),
        (
            "/player/vendor/dash.all.min.js",
            "player_web/node_modules/dashjs/dist/modern/umd/dash.all.min.js",
        ),
        (
            "/docs/swagger-ui-bundle.js",
            "player_web/node_modules/swagger-ui-dist/swagger-ui-bundle.js",
        ),
    ]:
        response = httpx.get(f"{installed_api}{url}", timeout=5)
        assert response.status_code == 200, url
        assert response.content == (installed.site / file).read_bytes(), url


def test_the_installed_command_reports_the_stack(installed: Installed, stack: Settings) -> None:
    status = installed.run(
        str(installed.site / "bin" / "streamcore"), "status", "--json", env=dict(os.environ)
    )
    assert status.returncode == 0, status.stdout + status.stderr
    services = json.loads(status.stdout)
    assert services, status.stdout
