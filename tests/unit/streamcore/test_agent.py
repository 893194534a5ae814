"""The agent check's answers: the weight from CPU use, with hysteresis, over a real socket."""

from __future__ import annotations

import socket

from streamcore.web.agent import FULL_WEIGHT, AgentPolicy, CpuAgent, weight_for
from tests.processes import free_port

POLICY = AgentPolicy(busy_percent=80.0, busy_weight=10)


def test_full_weight_below_the_threshold_and_reduced_above() -> None:
    assert weight_for(10.0, was_busy=False, policy=POLICY) == (FULL_WEIGHT, False)
    assert weight_for(79.9, was_busy=False, policy=POLICY) == (FULL_WEIGHT, False)
    assert weight_for(80.0, was_busy=False, policy=POLICY) == (10, True)
    assert weight_for(150.0, was_busy=False, policy=POLICY) == (10, True)


def test_a_busy_instance_must_cool_well_below_the_threshold_to_get_its_weight_back() -> None:
    assert weight_for(75.0, was_busy=True, policy=POLICY) == (10, True)
    assert weight_for(69.0, was_busy=True, policy=POLICY) == (FULL_WEIGHT, False)


def _ask(port: int) -> str:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        return conn.recv(64).decode("ascii")


def test_the_agent_answers_haproxys_grammar_one_line_per_connection() -> None:
    port = free_port()
    agent = CpuAgent("127.0.0.1", port, POLICY)
    agent.start()
    try:
        assert _ask(port) == "100%\n"  # an idle test process
        agent.draining = True
        assert _ask(port) == "0%\n"  # a weight, never "drain": an operator's drain stays
    finally:
        agent.stop()
