"""Prometheus' file_sd targets: the exporter first, then every instance, written on change only."""

from __future__ import annotations

import json
from pathlib import Path

from gateway.scrape_targets import targets, write
from streamcore.registry import Registration


def test_every_instance_is_a_labelled_target_after_the_exporter() -> None:
    registered = [
        Registration("streaming", 1, "127.0.0.1", 18110, 18210),
        Registration("catalog", 2, "127.0.0.1", 18101, 18201),
        Registration("catalog", 1, "127.0.0.1", 18100, 18200),
    ]
    groups = targets(registered, "127.0.0.1:18001")
    assert [g["targets"] for g in groups] == [
        ["127.0.0.1:18001"], ["127.0.0.1:18100"], ["127.0.0.1:18101"], ["127.0.0.1:18110"]
    ]  # fmt: skip
    assert groups[2]["labels"] == {"service": "catalog", "instance_name": "catalog-2"}


def test_written_atomically_and_only_when_changed(tmp_path: Path) -> None:
    path = tmp_path / "targets.json"
    groups = targets([], "127.0.0.1:18001")
    assert write(path, groups) is True
    assert json.loads(path.read_text()) == groups
    assert write(path, groups) is False
    assert list(tmp_path.iterdir()) == [path]
