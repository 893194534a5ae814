"""The adapter for the local edge: our own tokens, and purges through its purge endpoint."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import ClassVar

import aiohttp

from cdn_adapters.base import CdnError, CdnUnavailable, PurgeResult, PurgeState, TokenMode
from cdn_adapters.edge.app import purge_key
from streamcore import signing
from streamcore.settings import LocalEdgeCdn, Settings


class LocalEdgeAdapter:
    token_mode: ClassVar[TokenMode] = TokenMode.PATH

    def __init__(self, settings: Settings, edge: LocalEdgeCdn) -> None:
        self.name = edge.name
        self._settings, self._edge = settings, edge
        self._done: dict[str, PurgeResult] = {}

    def asset_url(self, path: str) -> str:
        return f"{self._edge.url}{path}"

    def signed_url(
        self, path: str, *, ttl_s: int, scope: str | None = None, client_ip: str | None = None
    ) -> str:
        origin = self._settings.origin
        assert origin.active_key_id is not None
        token = signing.sign(
            origin.signing_keys,
            origin.active_key_id,
            scope or path,
            ttl_s=ttl_s,
            client_ip=client_ip,
        )
        return signing.path_url(self._edge.url, token, path)

    async def purge(self, paths: Sequence[str], *, reference: str) -> PurgeResult:
        # Forgetting a path twice is harmless, so the reference only names the result.
        headers = {"Authorization": f"Bearer {purge_key(self._settings).decode()}"}
        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session,
                session.post(
                    f"{self._edge.url}/_edge/purge", json={"paths": list(paths)}, headers=headers
                ) as response,
            ):
                if response.status >= 500:
                    raise CdnUnavailable(f"edge answered {response.status}")
                if response.status != 200:
                    raise CdnError(
                        f"edge refused the purge: {response.status} {await response.text()}"
                    )
                purged = (await response.json())["purged"]
        except aiohttp.ClientError as exc:
            raise CdnUnavailable(f"edge unreachable: {exc}") from exc
        purge_id = f"{self.name}:{uuid.uuid5(uuid.NAMESPACE_URL, reference).hex[:16]}"
        result = PurgeResult(
            cdn=self.name, purge_id=purge_id, state=PurgeState.COMPLETED, paths=tuple(paths),
            detail=f"{purged} cached object(s) dropped",
        )  # fmt: skip
        self._done[purge_id] = result
        return result

    async def purge_status(self, purge_id: str) -> PurgeResult:
        # The edge purges synchronously: a purge that was accepted is complete.
        return self._done.get(purge_id) or PurgeResult(
            cdn=self.name, purge_id=purge_id, state=PurgeState.COMPLETED, paths=()
        )
