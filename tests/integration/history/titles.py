"""Titles for the history and recommendation tests, made through the catalog's API as an
admin would (films, a series with episodes), each with a published main asset."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

from streamcore.settings import Settings
from tests.integration.published import catalog_row


def admin_headers(stack: Settings) -> dict[str, str]:
    return {"Authorization": f"Bearer {stack.auth.service_key().get_secret_value()}"}


@dataclass(frozen=True)
class Title:
    id: uuid.UUID
    asset_id: uuid.UUID | None
    name: str
    series_id: uuid.UUID | None = None


@dataclass
class Catalog:
    """Titles made for one test (unique names: the stack's catalog is shared)."""

    stack: Settings
    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:8])

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.stack.catalog_api.url, headers=admin_headers(self.stack), timeout=20
        )

    async def title(
        self, name: str, *, asset: bool = True, runtime_min: int = 10, **fields: Any
    ) -> Title:
        """A title (a film unless `kind` says otherwise) with a published main asset."""
        body = {"title": f"{name} {self.tag}", "runtime_min": runtime_min, **fields}
        if body.get("kind") == "series":
            body.pop("runtime_min")
        async with self.client() as catalog:
            made = await catalog.post("/v1/titles", json=body)
            assert made.status_code == 201, made.text
            title_id = uuid.UUID(made.json()["id"])
            asset_id = None
            if asset:
                asset_id = await catalog_row(self.stack)
                put = await catalog.put(f"/v1/titles/{title_id}/assets/{asset_id}", json={})
                assert put.status_code in (200, 201), put.text
        series = fields.get("series_id")
        return Title(title_id, asset_id, body["title"], uuid.UUID(series) if series else None)

    async def series(self, name: str, episodes: int, **fields: Any) -> tuple[Title, list[Title]]:
        show = await self.title(name, asset=False, kind="series", **fields)
        made = [
            await self.title(
                f"{name} S1E{n}", kind="episode", series_id=str(show.id), season_number=1,
                episode_number=n,
            )
            for n in range(1, episodes + 1)
        ]  # fmt: skip
        return show, made
