"""What the running stack was started with, kept until `down`: `status`, `scale` and the app
processes must agree on it for the stack's life.

`up --replicas N` sets the local PostgreSQL's replicas; `scale SERVICE N` sets how many
instances of a web service run. Both live in `<data_dir>/run/stack.json` and override the
settings for as long as the stack runs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from streamcore.settings import SERVICE_SECTIONS, Settings, StackSettings


class StackError(Exception):
    """The stack could not be started or stopped; the message says why and where to look."""


class StackAlreadyRunning(StackError):
    pass


def run_state_path(settings: Settings) -> Path:
    return settings.stack.data_dir / "run" / "stack.json"


def _read(settings: Settings) -> dict[str, Any] | None:
    try:
        state: dict[str, Any] = json.loads(run_state_path(settings).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    return state


def write(settings: Settings) -> None:
    """Record the settings `up` starts the stack with."""
    state = {
        "postgres_replicas": settings.stack.postgres_replicas,
        "instances": {name: settings.service(name).instances for name in SERVICE_SECTIONS},
    }
    path = run_state_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(state, indent=2), encoding="utf-8")


def record_instances(settings: Settings, service: str, count: int) -> None:
    state = _read(settings) or {}
    state.setdefault("instances", {})[service] = count
    run_state_path(settings).write_text(json.dumps(state, indent=2), encoding="utf-8")


def clear(settings: Settings) -> None:
    run_state_path(settings).unlink(missing_ok=True)


def with_replicas(settings: Settings, count: int) -> Settings:
    """The settings with `count` local PostgreSQL replicas (validated like the setting)."""
    stack = StackSettings.model_validate(
        {**settings.stack.model_dump(), "postgres_replicas": count}
    )
    return _rebuilt(settings, stack=stack)


def with_instances(settings: Settings, service: str, count: int) -> Settings:
    """The settings with `count` instances of `service` (1..gateway.slots)."""
    if not 1 <= count <= settings.gateway.slots:
        raise StackError(
            f"{service} can have 1 to {settings.gateway.slots} instances (gateway.slots)"
        )
    section = settings.service(service).model_copy(update={"instances": count})
    return _rebuilt(settings, **{SERVICE_SECTIONS[service]: section})


def _rebuilt(settings: Settings, **sections: Any) -> Settings:
    # Rebuilt rather than model_copy()'d: a copy would keep cached properties (replica DSNs).
    fields = {name: getattr(settings, name) for name in type(settings).model_fields}
    return Settings.model_construct(**{**fields, **sections})


def running_settings(settings: Settings) -> Settings:
    """The settings as the running stack was started (and scaled) until `down`."""
    state = _read(settings)
    if state is None:
        return settings
    count = int(state["postgres_replicas"])
    if count != settings.stack.postgres_replicas:
        settings = with_replicas(settings, count)
    for service, instances in state.get("instances", {}).items():
        if service in SERVICE_SECTIONS and instances != settings.service(service).instances:
            settings = with_instances(settings, service, int(instances))
    return settings
