"""Every port of a stack's settings, shifted: the environment that moves a whole stack aside.

Both the session's test stack (by STREAMCORE_TEST_PORT_OFFSET) and the stacks tests start beside
it (tests/integration/test_stack_foreground.py) take their ports from here, so a service added to
the settings is moved with the others instead of keeping a port another stack already holds.
"""

from __future__ import annotations

import json

from streamcore.settings import SERVICE_SECTIONS, Settings


def shifted_ports(base: Settings, offset: int) -> dict[str, str]:
    """STREAMCORE_* variables that move every port `base` listens on by `offset`."""
    edge = next(cdn for cdn in base.cdns if cdn.kind == "local_edge")
    env = {
        "STREAMCORE_STACK__POSTGRES_PORT": str(base.stack.postgres_port + offset),
        "STREAMCORE_STACK__REDIS_PORT": str(base.stack.redis_port + offset),
        "STREAMCORE_STACK__S3_PORT": str(base.stack.s3_port + offset),
        "STREAMCORE_STACK__SEAWEED_PORT_BASE": str(base.stack.seaweed_port_base + offset),
        "STREAMCORE_GATEWAY__PORT": str(base.gateway.port + offset),
        "STREAMCORE_GATEWAY__METRICS_PORT": str(base.gateway.metrics_port + offset),
        "STREAMCORE_CDNS": json.dumps(
            [{"kind": "local_edge", "name": edge.name, "port": edge.port + offset}]
        ),
    }
    for group, section_name in SERVICE_SECTIONS.items():
        section = base.service(group)
        prefix = f"STREAMCORE_{section_name.upper()}__"
        env[prefix + "PORT"] = str(section.port + offset)
        env[prefix + "AGENT_PORT"] = str(section.agent_port + offset)
    return env
