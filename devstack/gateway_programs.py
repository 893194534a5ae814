"""The gateway's two programs: HAProxy itself (master-worker) and the registrar beside it."""

from __future__ import annotations

from devstack import pools
from devstack.supervisor import Program
from gateway import process
from streamcore.settings import Settings


def haproxy(settings: Settings) -> Program:
    """HAProxy in master-worker mode, in the foreground under supervisord (gateway/process.py).

    SIGUSR1 is HAProxy's soft stop: the worker finishes the requests it holds, then exits
    (SIGTERM would cut them).
    """
    return Program(
        name="gateway", command=process.argv(settings), stop_signal="USR1", stop_wait_s=15
    )


def registrar(settings: Settings) -> Program:
    return pools.python_module(settings, "registrar", "gateway", autorestart=True)
