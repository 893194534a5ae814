"""The streaming service for tests built in this process by its own factory, against the stack.

The `streaming` fixture's TestClient runs it in the test's event loop; its catalog client is
pointed at the stack's catalog instance (``settings.catalog_api.url``), so that a test can
change the streaming settings (a shorter breaker reset, a closed catalog port) alone.
Synchronous tests and the browser use the stack's own streaming instances, through the gateway.
"""

from __future__ import annotations

from typing import Any

from streamcore.settings import Settings


def streaming_settings(stack: Settings, **streaming: Any) -> Settings:
    """The stack's settings, its streaming section calling the catalog directly (and changed
    by `streaming`, say a shorter breaker reset)."""
    section = stack.streaming.model_copy(update={"catalog_url": stack.catalog_api.url, **streaming})
    return stack.model_copy(update={"streaming": section})
