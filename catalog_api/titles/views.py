"""Documents to responses: image paths become signed CDN URLs, positions become cursors, and
each title (episodes too) says whether it is ``locked`` to the caller (catalog_api/locks.py).

Done after any cache: signing is one HMAC per image, and the URLs are the same all hour long
(see cdn_adapters.playback.image_url), so each is signed once an hour (`ImageUrls`); locks are
the caller's own. What a presentation depends on besides the document is
`Presenter.variant()`, so that handlers may keep its encoded result for the next caller of the
same variant (streamcore/cache/memo.py).
"""

from __future__ import annotations

import time
from collections.abc import Hashable
from typing import Any

from aiohttp import web

from catalog_api.locks import UNLOCKED, Locks
from catalog_api.resources import IMAGE_URLS_KEY
from catalog_api.titles import cursor
from catalog_api.titles.models import TitleQuery
from cdn_adapters.playback import image_expiry
from streamcore.entitlements import Access
from streamcore.web.service import SETTINGS_KEY


def image_scope(path: str) -> str:
    """The folder a token for an image opens: the title's, or the asset version's."""
    parts = path.split("/")
    depth = 3 if parts[1] == "titles" else 4  # /titles/{id}/ or /assets/{id}/v{n}/
    return "/".join(parts[:depth]) + "/"


class Presenter:
    def __init__(
        self, app: web.Application, locks: Locks = UNLOCKED, now: float | None = None
    ) -> None:
        """`locks`: the caller's (`locks.caller_locks`); writers (admins) have none. `now`:
        the moment URLs are signed at (one for the whole presentation, and its variant)."""
        self.settings = app[SETTINGS_KEY]
        self._locks = locks
        self._urls = app[IMAGE_URLS_KEY]
        self._ttl_s = self.settings.origin.playback_ttl_s
        self._now = int(now if now is not None else time.time())

    def variant(self) -> Hashable:
        """All a presentation depends on besides its document (and a page's query): whether
        premium titles are locked (every access level but free is locked alike, see
        `Locks.locked`) and when the signed URLs expire (they change only then)."""
        return (self._locks.locked(Access.PREMIUM), image_expiry(self._ttl_s, self._now))

    def _url(self, path: str | None) -> str | None:
        if not path:
            return None
        return self._urls.url(path, ttl_s=self._ttl_s, scope=image_scope(path), now=self._now)

    def _with_images(self, document: dict[str, Any]) -> dict[str, Any]:
        presented = {k: v for k, v in document.items() if k != "image_paths"}
        presented["locked"] = self._locks.locked(document.get("access"))
        paths = document.get("image_paths") or {}
        presented["images"] = {
            "poster": self._url(paths.get("poster")),
            "thumbnail": self._url(paths.get("thumbnail")),
        }
        presented["links"] = {**document.get("links", {}), "self": f"/v1/titles/{document['id']}"}
        return presented

    def title(self, document: dict[str, Any]) -> dict[str, Any]:
        presented = self._with_images(document)
        if "assets" in document:
            presented["assets"] = [
                {
                    **{k: v for k, v in asset.items() if k != "image_paths"},
                    "images": {
                        "poster": self._url(asset["image_paths"].get("poster")),
                        "thumbnail": self._url(asset["image_paths"].get("thumbnail")),
                    },
                }
                for asset in document["assets"]
            ]
        if "episodes" in document:
            presented["episodes"] = [self._with_images(e) for e in document["episodes"]]
        return presented

    def page(self, page: dict[str, Any], query: TitleQuery) -> dict[str, Any]:
        after = page["next_after"]
        return {
            "items": [self._with_images(item) for item in page["items"]],
            "limit": query.limit,
            "next_cursor": cursor.encode(self.settings, query, after) if after else None,
        }
