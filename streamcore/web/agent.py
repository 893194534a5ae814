"""HAProxy's agent check, answered by every service instance from its own CPU use.

HAProxy connects to the agent port every `gateway.agent_interval_s` and reads one line. We
answer with a weight only: ``100%`` while the process uses less than
`gateway.cpu_busy_percent` of a core, ``<busy_weight_percent>%`` above it (with hysteresis,
so an instance hovering at the threshold does not flap), and ``0%`` while the instance drains
before it stops. A weight never changes the server's administrative state, so the agent
cannot undo an operator's ``set server … state drain`` (the words ``ready``/``drain`` would).

The agent runs in its own thread with a blocking socket server from the standard library,
not on the event loop: an instance whose loop is saturated by CPU-bound requests is exactly
the one that must still say so. No library covers this (the reply grammar is HAProxy's own).
"""

from __future__ import annotations

import logging
import socketserver
import threading
from dataclasses import dataclass

import psutil

log = logging.getLogger(__name__)

FULL_WEIGHT = 100
# Once busy, the instance asks for full weight again only this far below the threshold.
HYSTERESIS_PERCENT = 10.0
SAMPLE_INTERVAL_S = 1.0


@dataclass(frozen=True)
class AgentPolicy:
    busy_percent: float
    busy_weight: int


def weight_for(cpu_percent: float, *, was_busy: bool, policy: AgentPolicy) -> tuple[int, bool]:
    """The weight to announce and whether the instance now counts as busy."""
    threshold = policy.busy_percent - HYSTERESIS_PERCENT if was_busy else policy.busy_percent
    busy = cpu_percent >= threshold
    return (policy.busy_weight if busy else FULL_WEIGHT), busy


class _Server(socketserver.ThreadingTCPServer):
    # A restarted instance binds its agent port again at once (no wait for TIME_WAIT).
    allow_reuse_address = True
    daemon_threads = True


class CpuAgent:
    """Samples this process's CPU use every second and answers agent checks on `port`."""

    def __init__(self, host: str, port: int, policy: AgentPolicy) -> None:
        self.policy = policy
        self.draining = False
        self.cpu_percent = 0.0
        self._busy = False
        self._process = psutil.Process()
        self._process.cpu_percent(None)  # the first reading is always 0: start the window
        self._stop = threading.Event()
        self._server = _Server((host, port), self._handler_class())
        self._threads = [
            threading.Thread(target=self._server.serve_forever, name="agent", daemon=True),
            threading.Thread(target=self._sample, name="agent-cpu", daemon=True),
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()
        log.info("agent check on %s:%d", *self._server.server_address[:2])

    def stop(self) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)

    def reply(self) -> str:
        if self.draining:
            return "0%\n"
        return f"{self.policy.busy_weight if self._busy else FULL_WEIGHT}%\n"

    def _sample(self) -> None:
        while not self._stop.wait(SAMPLE_INTERVAL_S):
            self.cpu_percent = self._process.cpu_percent(None)
            _, busy = weight_for(self.cpu_percent, was_busy=self._busy, policy=self.policy)
            if busy != self._busy:
                log.info("CPU %.0f%%: %s", self.cpu_percent, "busy" if busy else "cool again")
            self._busy = busy

    def _handler_class(self) -> type[socketserver.BaseRequestHandler]:
        agent = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                self.request.sendall(agent.reply().encode("ascii"))

        return Handler
