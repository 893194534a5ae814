"""Real aiohttp servers on 127.0.0.1 playing a web service's instances behind the gateway.

Each answers every path with who it is and the headers the gateway set, answers GET /healthz,
and runs an agent (a TCP server answering one line, as HAProxy's agent-check expects). A
test can stop one (connections refused), hang one (accepts, never answers) or change what
its agent says. They listen on ports the kernel picks, so nothing collides with the stack.
"""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass, field

from aiohttp import web

from streamcore.registry import Registration

HOST = "127.0.0.1"


def _listening_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, 0))
    sock.listen(128)
    sock.setblocking(False)
    return sock


@dataclass
class InstanceServer:
    service: str
    index: int
    agent_reply: str = "100%"
    # Request headers of every request served, in order.
    seen: list[dict[str, str]] = field(default_factory=list)
    hung: asyncio.Event = field(default_factory=asyncio.Event)
    port: int = 0
    agent_port: int = 0
    _runner: web.AppRunner | None = None
    _agent: asyncio.Server | None = None

    _registration: Registration | None = None

    @property
    def registration(self) -> Registration:
        """What this instance registers: made once, as a process makes it once at start."""
        if self._registration is None:
            self._registration = Registration(
                self.service, self.index, HOST, self.port, self.agent_port
            )
        return self._registration

    async def start(self) -> InstanceServer:
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_route("*", "/{tail:.*}", self._any)
        # A stopped instance drops what it was doing at once, like a killed process.
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        await self._runner.setup()
        http = _listening_socket()
        self.port = http.getsockname()[1]
        await web.SockSite(self._runner, http).start()
        agent = _listening_socket()
        self.agent_port = agent.getsockname()[1]
        self._agent = await asyncio.start_server(self._answer_agent, sock=agent)
        return self

    async def stop(self) -> None:
        """Close both listeners: from now on, connections are refused."""
        if self._agent is not None:
            self._agent.close()
            self._agent = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _healthz(self, request: web.Request) -> web.Response:
        await self._hang_if_asked()
        return web.json_response({"status": "ok"})

    async def _any(self, request: web.Request) -> web.Response:
        await self._hang_if_asked()
        self.seen.append(dict(request.headers))
        return web.json_response(
            {"service": self.service, "instance": self.index, "path": request.path}
        )

    async def _hang_if_asked(self) -> None:
        if self.hung.is_set():
            await asyncio.Event().wait()  # accepted, never answered

    async def _answer_agent(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        writer.write(f"{self.agent_reply}\n".encode())
        await writer.drain()
        writer.close()
