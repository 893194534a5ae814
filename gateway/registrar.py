"""The registrar: every ``registry.sync_interval_s``, make HAProxy serve the registered set.

Each tick reads the registry (streamcore.registry) and HAProxy's slots (gateway.runtime),
asks `gateway.plan.plan` what to change and applies it, logging every change. Failures only
skip work, never undo it:

- registry unreachable: nothing changes, so the last known set stays in HAProxy (logged
  once per outage);
- HAProxy unreachable (down, restarting, not started yet): tried again next tick;
- one command refused: logged, the rest of the plan goes on, the next tick plans again.

After an HAProxy reload the server-state file has restored the slots, and the next tick
finds nothing (or little) to do. The registrar keeps no state of its own beyond what it
logged, so it can be restarted at any time.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import socket
from collections.abc import Collection
from dataclasses import replace
from pathlib import Path

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from gateway import scrape_targets
from gateway.plan import Action, Assign, Drain, Ready, Release, Unplaced, plan
from gateway.runtime import RuntimeApi, RuntimeApiError, RuntimeApiUnreachable
from streamcore import registry
from streamcore.registry import Registration

log = logging.getLogger(__name__)


class Registrar:
    """Reconciles one HAProxy's backends (`backends`) with the registry, tick by tick."""

    def __init__(
        self,
        redis: aioredis.Redis,
        api: RuntimeApi,
        backends: Collection[str],
        interval_s: float,
        scrape: tuple[Path, str] | None = None,
    ) -> None:
        self.redis, self.api = redis, api
        self.backends = frozenset(backends)
        self.interval_s = interval_s
        # Where to keep Prometheus' scrape targets, and HAProxy's exporter (host:port).
        self.scrape = scrape
        self._scrape_groups: list[dict[str, object]] | None = None
        self._outages: set[str] = set()
        self._unplaced: set[tuple[str, int, str]] = set()

    async def run(self, stop: asyncio.Event) -> None:
        log.info("registrar: every %.1f s, backends %s", self.interval_s, sorted(self.backends))
        while not stop.is_set():
            await self.tick()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.interval_s)

    async def tick(self) -> list[Action] | None:
        """One reconciliation; the actions it applied, or None when it could not look."""
        try:
            registered = await registry.instances(self.redis)
        except (RedisError, OSError) as exc:
            self._outage("registry", f"keeping the last known set ({exc})")
            return None
        self._recovered("registry")
        if self.scrape is not None:
            path, exporter = self.scrape
            groups = scrape_targets.targets(registered, exporter)
            # Compared in memory first: the file is read and written only when the set moves.
            if groups != self._scrape_groups and scrape_targets.write(path, groups):
                log.info("scrape targets: %d instances (%s)", len(registered), path)
            self._scrape_groups = groups
        try:
            servers = [s for s in await self.api.servers() if s.backend in self.backends]
        except RuntimeApiUnreachable as exc:
            self._outage("haproxy", f"trying again in {self.interval_s:.1f} s ({exc})")
            return None
        self._recovered("haproxy")
        actions = plan(await self._resolved(registered), servers)
        for action in actions:
            await self._apply(action)
        self._note_unplaced([a for a in actions if isinstance(a, Unplaced)])
        return actions

    async def _apply(self, action: Action) -> None:
        try:
            match action:
                case Assign(backend, slot, reg):
                    await self.api.assign(backend, slot, reg.host, reg.port, reg.agent_port)
                    log.info(
                        "%s/%s: assigned %s %d at %s:%d (agent port %d, pid %d)",
                        *(backend, slot, reg.service, reg.instance, reg.host, reg.port),
                        *(reg.agent_port, reg.pid),
                    )
                case Ready(backend, slot, reason):
                    await self.api.admit(backend, slot)
                    log.info("%s/%s: out of maintenance (%s)", backend, slot, reason)
                case Drain(backend, slot, reason):
                    await self.api.drain(backend, slot)
                    log.info("%s/%s: draining (%s)", backend, slot, reason)
                case Release(backend, slot, reason):
                    await self.api.release(backend, slot)
                    log.info("%s/%s: released (%s)", backend, slot, reason)
                case Unplaced():
                    pass  # logged once by _note_unplaced
        except RuntimeApiError as exc:
            log.warning("registrar: %s failed: %s", action, exc)

    async def _resolved(self, registered: list[Registration]) -> list[Registration]:
        """Registrations with their hosts as HAProxy prints addresses (it takes IPs only)."""
        found = []
        for reg in registered:
            try:
                found.append(replace(reg, host=await _address(reg.host)))
            except OSError as exc:
                log.warning(
                    "%s %d: cannot resolve %s (%s)", reg.service, reg.instance, reg.host, exc
                )
        return found

    def _outage(self, what: str, detail: str) -> None:
        if what not in self._outages:
            log.warning("registrar: %s unreachable; %s", what, detail)
            self._outages.add(what)

    def _recovered(self, what: str) -> None:
        if what in self._outages:
            log.info("registrar: %s reachable again", what)
            self._outages.discard(what)

    def _note_unplaced(self, unplaced: list[Unplaced]) -> None:
        now = {(u.registration.service, u.registration.instance, u.reason) for u in unplaced}
        for service, instance, reason in sorted(now - self._unplaced):
            log.warning("%s %d: not in the gateway: %s", service, instance, reason)
        self._unplaced = now


async def _address(host: str) -> str:
    """`host` as a normalised IP address, resolving a name if need be."""
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return str(ipaddress.ip_address(infos[0][4][0]))
