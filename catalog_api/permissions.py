"""Who may call what in the catalog: every route and the permission it needs, in one table.

`streamcore.auth.middleware.authorization(PERMISSIONS)` enforces it for every request (a route
missing here is refused, and tests/unit/catalog_api/test_permissions.py fails), so no handler
checks a role. What a permission lets a caller see or touch *within* a route is the handlers'
business: a creator holds UPLOAD but manages only the assets it owns (`Principal.may_manage`;
anyone else's are 404 to it), and a profile's maturity hides titles above it (caller.py).

- PUBLIC: reads of titles and of one asset, the documents, the player's files, health and
  metrics (scraped without credentials), the diagnostics endpoint (404 unless enabled).
- PLAY: the moved playback and progress paths, as their new homes in the streaming service
  need it (anonymous callers too where auth.allow_anonymous_playback allows); the old
  ``@public`` marker of the progress PUT. The steering manifests stay PUBLIC: players fetch
  them with nothing but the URL's own token.
- UPLOAD: uploading, and listing, deleting, reprocessing one's own assets, and adding and
  removing their captions.
- MANAGE_CATALOG: titles, their posters and their assets (admins).

The catalog has no CDN purge or job endpoints of its own: purges follow its writes as tasks.
"""

from __future__ import annotations

from streamcore.auth.roles import Permission

PUBLIC, PLAY, UPLOAD, MANAGE = (
    Permission.PUBLIC, Permission.PLAY, Permission.UPLOAD, Permission.MANAGE_CATALOG,
)  # fmt: skip

PERMISSIONS: dict[str, Permission] = {
    # Operations
    "GET /healthz": PUBLIC,
    "GET /readyz": PUBLIC,
    "GET /metrics": PUBLIC,
    "GET /diag/catalog/cpu": PUBLIC,
    # Documents and the bundled player
    "GET /openapi.json": PUBLIC,
    "GET /docs": PUBLIC,
    "GET /docs/init.js": PUBLIC,
    "GET /docs/{name}": PUBLIC,
    "GET /player": PUBLIC,
    "GET /player/": PUBLIC,
    "GET /player/vendor/{name}": PUBLIC,
    "GET /player/{name}": PUBLIC,
    # Titles
    "GET /v1/titles": PUBLIC,
    "GET /v1/titles/{title_id}": PUBLIC,
    "POST /v1/titles": MANAGE,
    "POST /v1/titles/batch": MANAGE,
    "PATCH /v1/titles/{title_id}": MANAGE,
    "DELETE /v1/titles/{title_id}": MANAGE,
    "PUT /v1/titles/{title_id}/poster": MANAGE,
    "PUT /v1/titles/{title_id}/assets/{asset_id}": MANAGE,
    "DELETE /v1/titles/{title_id}/assets/{asset_id}": MANAGE,
    # Assets
    "POST /v1/assets": UPLOAD,
    "GET /v1/assets": UPLOAD,
    "GET /v1/assets/{asset_id}": PUBLIC,
    "DELETE /v1/assets/{asset_id}": UPLOAD,
    "POST /v1/assets/{asset_id}/reprocess": UPLOAD,
    "GET /v1/assets/{asset_id}/captions": PUBLIC,
    "POST /v1/assets/{asset_id}/captions": UPLOAD,
    "DELETE /v1/assets/{asset_id}/captions/{lang}/{kind}": UPLOAD,
    # Moved to the streaming service (a 308 to the new path)
    "GET /v1/assets/{asset_id}/playback": PLAY,
    "GET /v1/assets/{asset_id}/steering/{kind}": PUBLIC,
    "GET /v1/assets/{asset_id}/progress": PLAY,
    "PUT /v1/assets/{asset_id}/progress": PLAY,
}
