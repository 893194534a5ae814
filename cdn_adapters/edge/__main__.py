"""``python -m cdn_adapters.edge [NAME]``: serve the local edge configured under `cdns`."""

from __future__ import annotations

import sys

from aiohttp import web

from cdn_adapters.edge.app import create_edge_app
from streamcore.log import configure_logging
from streamcore.settings import load_settings, local_edges


def main() -> None:
    settings = load_settings()
    configure_logging(settings)
    wanted = sys.argv[1] if len(sys.argv) > 1 else None
    edges = [edge for edge in local_edges(settings) if wanted in (None, edge.name)]
    if not edges:
        sys.exit(f"no local_edge CDN {wanted or ''} in the settings' `cdns`")
    edge = edges[0]
    web.run_app(
        create_edge_app(settings, edge), host=edge.host, port=edge.port, access_log=None, print=None
    )


if __name__ == "__main__":
    main()
