"""The streaming service for tests, built in this process by its own factory against the stack.

Until the local stack runs the streaming service itself (behind the gateway), tests build it
from `streaming.app.create_app`, with its catalog client pointed at the stack's running catalog
(``settings.catalog_api.url``) instead of the gateway. Async tests use aiohttp's TestClient
(the `streaming` fixture); synchronous ones and the browser get a base URL from a TestServer
running on an event loop of its own, in a thread (`ThreadedServer`).
"""

from __future__ import annotations

import asyncio
import threading
from types import TracebackType
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

from streamcore.settings import Settings


def streaming_settings(stack: Settings, **streaming: Any) -> Settings:
    """The stack's settings, its streaming section calling the catalog directly (and changed
    by `streaming`, say a shorter breaker reset)."""
    section = stack.streaming.model_copy(update={"catalog_url": stack.catalog_api.url, **streaming})
    return stack.model_copy(update={"streaming": section})


class ThreadedServer:
    """`app` served on 127.0.0.1 (a free port) from a thread; the context gives its base URL."""

    def __init__(self, app: web.Application) -> None:
        self._app = app
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="test-server")
        self._server: TestServer | None = None

    def __enter__(self) -> str:
        self._thread.start()
        self._server = self._run(self._start())
        return str(self._server.make_url("")).rstrip("/")

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if self._server is not None:
                self._run(self._server.close())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=30)
            self._loop.close()

    async def _start(self) -> TestServer:
        server = TestServer(self._app, host="127.0.0.1")
        await server.start_server()
        return server

    def _run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=60)
