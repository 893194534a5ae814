"""What Prometheus should scrape, kept by the registrar: HAProxy's exporter and every instance.

Instances come and go (`streamcore scale`), so a static scrape config cannot list them. The
registrar already knows the registered set; each tick it writes it in Prometheus' own
`file_sd_configs` format (a JSON list of ``{"targets": [...], "labels": {...}}``), which
Prometheus re-reads on change: `configs/prometheus.yaml` points at the file. Written only when
it changes, atomically (Prometheus may read it at any moment).
"""

from __future__ import annotations

import json
from pathlib import Path

from streamcore.registry import Registration


def targets(registered: list[Registration], gateway_exporter: str) -> list[dict[str, object]]:
    """HAProxy's exporter (host:port), then one group per instance, labelled by service."""
    groups: list[dict[str, object]] = [
        {
            "targets": [gateway_exporter],
            "labels": {"service": "gateway", "instance_name": "gateway"},
        }
    ]
    for reg in sorted(registered, key=lambda r: (r.service, r.instance, r.port)):
        groups.append(
            {
                "targets": [f"{reg.host}:{reg.port}"],
                "labels": {
                    "service": reg.service,
                    "instance_name": f"{reg.service}-{reg.instance}",
                },
            }
        )
    return groups


def write(path: Path, groups: list[dict[str, object]]) -> bool:
    """Write the groups if they differ from the file's; True if it was written."""
    text = json.dumps(groups, indent=2) + "\n"
    try:
        if path.read_text(encoding="utf-8") == text:
            return False
    except FileNotFoundError:
        pass
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)
    return True
