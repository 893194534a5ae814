"""Every endpoint of the catalog API, declared once for its OpenAPI document
(built by streamcore/web/openapi.py).

tests/integration/test_openapi.py checks that this list and the app's routes match.
"""

from __future__ import annotations

from catalog_api.assets.models import AssetListParams, ReprocessParams
from catalog_api.openapi import schemas as s
from catalog_api.titles import responses as r
from catalog_api.titles.models import (
    AttachAsset,
    TitleBatch,
    TitleCreate,
    TitleListParams,
    TitleUpdate,
)
from packager.captions import CAPTION_KINDS
from streamcore.web import diagnostics
from streamcore.web.openapi import Body, Operation, Param, Reply, health_operations

UUID = {"type": "string", "format": "uuid"}
TITLE_ID = Param("title_id", "path", UUID)
ASSET_ID = Param("asset_id", "path", UUID)
BINARY = {"schema": {"type": "string", "format": "binary"}}
CACHEABLE = ("Cache-Control", "Vary")

TITLES = [
    Operation("GET", "/v1/titles", "listTitles", "List, filter, sort and page through titles",
              "titles", {200: Reply("A page of titles", r.TitlePage, headers=CACHEABLE)},
              query_model=TitleListParams, errors=(400,),
              description="Keyset pagination: follow `next_cursor` until it is null. A cursor "
              "is bound to its filters and sort; a bad or altered one is a 400 "
              "`invalid_cursor`."),
    Operation("POST", "/v1/titles", "createTitle", "Create a title", "titles",
              {201: Reply("The title", r.TitleDetail, headers=("Location",))},
              body=Body(TitleCreate), errors=(400, 409)),
    Operation("POST", "/v1/titles/batch", "importTitles",
              "Create or update up to 1000 titles by (kind, tmdb_id), in one transaction",
              "titles", {200: Reply("What happened to each row", r.BatchResult)},
              body=Body(TitleBatch), errors=(400, 409, 413)),
    Operation("GET", "/v1/titles/{title_id}", "getTitle",
              "A title with its assets (a series with its episodes)", "titles",
              {200: Reply("The title", r.TitleDetail, headers=CACHEABLE)}, (TITLE_ID,),
              errors=(404,), description="A title above the caller's maturity level is a 404, "
              "as if absent; so are a series' episodes above it, left out."),
    Operation("PATCH", "/v1/titles/{title_id}", "updateTitle", "Change some fields of a title",
              "titles", {200: Reply("The title", r.TitleDetail)}, (TITLE_ID,),
              body=Body(TitleUpdate), errors=(400, 404, 409)),
    Operation("DELETE", "/v1/titles/{title_id}", "deleteTitle",
              "Delete a title (a series with its episodes), its images, and purge them",
              "titles", {200: Reply("Deleted", r.DeletedTitle)}, (TITLE_ID,),
              errors=(404,)),
    Operation("PUT", "/v1/titles/{title_id}/poster", "putTitlePoster",
              "Replace the title's poster (the thumbnail is made from it)", "titles",
              {200: Reply("The title, with its new image URLs", r.TitleDetail)}, (TITLE_ID,),
              body=Body(raw={"image/jpeg": BINARY, "image/png": BINARY, "image/webp": BINARY},
                        description="At most 10 MiB and 40 megapixels; stored re-encoded as "
                        "JPEG, at most 1000x1500 (thumbnail 300x450)"),
              errors=(400, 404, 413, 415, 503)),
    Operation("PUT", "/v1/titles/{title_id}/assets/{asset_id}", "attachAsset",
              "Attach an asset to a title, or change its role and position", "titles",
              {200: Reply("The title", r.TitleDetail)}, (TITLE_ID, ASSET_ID),
              body=Body(AttachAsset), errors=(400, 404, 409)),
    Operation("DELETE", "/v1/titles/{title_id}/assets/{asset_id}", "detachAsset",
              "Detach an asset from a title", "titles", {200: Reply("The title", r.TitleDetail)},
              (TITLE_ID, ASSET_ID), errors=(404,)),
]  # fmt: skip

ASSETS = [
    Operation("POST", "/v1/assets", "uploadAsset", "Upload a source video; processing follows",
              "assets", {202: Reply("Stored; processing is queued", s.AssetOut,
                                    headers=("Location",))},
              (Param("X-Filename", "header", {"type": "string"},
                     description="Raw uploads: the file's name, percent-encoded UTF-8"),
               Param("X-Title", "header", {"type": "string"}),
               Param("title", "query", {"type": "string"}),
               Param("X-Audio-Languages", "header", {"type": "string"},
                     description="The source's audio languages in its track order, "
                     "comma-separated BCP 47 (en,fr); an empty entry keeps a track's own"),
               Param("audio_languages", "query", {"type": "string"},
                     description="As X-Audio-Languages")),
              body=Body(raw={
                  "application/octet-stream": BINARY, "video/*": BINARY,
                  "multipart/form-data": {"schema": {
                      "type": "object", "required": ["file"],
                      "properties": {"file": {"type": "string", "format": "binary"},
                                     "title": {"type": "string"},
                                     "audio_languages": {"type": "string"}}}},
              }),
              errors=(400, 413, 415, 503)),
    Operation("GET", "/v1/assets", "listAssets",
              "The caller's assets (every asset, for an admin), newest first", "assets",
              {200: Reply("A page of assets", s.AssetPage)}, query_model=AssetListParams,
              errors=(400,)),
    Operation("GET", "/v1/assets/{asset_id}", "getAsset", "An asset's state and renditions",
              "assets", {200: Reply("The asset", s.AssetOut)}, (ASSET_ID,), errors=(404,),
              description="Its source, owner, attempts and errors only for its owner and "
              "admins. An asset above the caller's maturity level is a 404 (its owner's "
              "aside)."),
    Operation("DELETE", "/v1/assets/{asset_id}", "deleteAsset",
              "Delete an asset (one's own; any, for an admin) and its files, and purge the CDNs",
              "assets",
              {202: Reply("Deleted; files and caches follow", s.DeletedAsset)}, (ASSET_ID,),
              errors=(404, 503)),
    Operation("POST", "/v1/assets/{asset_id}/reprocess", "reprocessAsset",
              "Process an asset (one's own; any, for an admin) again into a new version", "assets",
              {202: Reply("Queued", s.AssetOut)}, (ASSET_ID,), query_model=ReprocessParams,
              errors=(400, 404, 409, 503)),
]  # fmt: skip

CAPTION_KIND = {"type": "string", "enum": list(CAPTION_KINDS)}
CAPTIONS = [
    Operation("POST", "/v1/assets/{asset_id}/captions", "addCaption",
              "Add a WebVTT or SRT caption file to an asset (one's own; any, for an admin), or "
              "replace the one of its language and kind", "captions",
              {202: Reply("Stored; publishing into the asset's version is queued", s.CaptionOut)},
              (ASSET_ID,
               Param("lang", "query", {"type": "string", "maxLength": 35},
                     description="BCP 47 (fr, pt-BR); required, here or as a form field"),
               Param("kind", "query", CAPTION_KIND, description="Default: subtitles"),
               Param("label", "query", {"type": "string", "maxLength": 100},
                     description="What players' menus show; default: the language's own "
                     "name (Français), with ' (CC)' for captions")),
              body=Body(raw={
                  "text/vtt": BINARY, "application/x-subrip": BINARY, "text/plain": BINARY,
                  "application/octet-stream": BINARY,
                  "multipart/form-data": {"schema": {
                      "type": "object", "required": ["file"],
                      "properties": {"file": {"type": "string", "format": "binary"},
                                     "lang": {"type": "string"}, "kind": CAPTION_KIND,
                                     "label": {"type": "string"}}}},
              }, description="The file as sent, at most 5 MiB and 20000 cues; WebVTT must be "
                 "UTF-8, SRT may also be UTF-16 (with a BOM) or Windows-1252"),
              errors=(400, 404, 409, 413, 415, 503),
              description="A file that cannot be read is a 400 `invalid_caption` whose message "
              "starts with its line (`line 7: ...`) and whose `details` are `[{\"field\": "
              "\"file\", \"line\": 7, \"message\": ...}]`; nothing is stored. A failed asset "
              "is a 409; one uploaded or processing gets its captions once processing ends."),
    Operation("GET", "/v1/assets/{asset_id}/captions", "listCaptions",
              "An asset's captions and subtitles, and whether each is published", "captions",
              {200: Reply("Its captions", s.CaptionPage)}, (ASSET_ID,), errors=(404,),
              description="For whoever may see the asset (a 404 above the caller's maturity "
              "level, its owner's aside)."),
    Operation("DELETE", "/v1/assets/{asset_id}/captions/{lang}/{kind}", "removeCaption",
              "Remove a caption (one's own asset's; any, for an admin) and its file; the "
              "published manifests follow", "captions",
              {202: Reply("Removed; republishing is queued", s.DeletedCaption)},
              (ASSET_ID, Param("lang", "path", {"type": "string"}),
               Param("kind", "path", CAPTION_KIND)),
              errors=(404, 503)),
]  # fmt: skip

# Moved to the streaming service (catalog_api/assets/moved.py): a 308 to the new path.
MOVED_TO = Reply(
    "Moved to the streaming service: `Location` is the new path, with the query",
    headers=("Location",),
)
MOVED = [
    Operation("GET", "/v1/assets/{asset_id}/playback", "playbackUrlsMoved",
              "Moved: GET /v1/playback/{asset_id}", "moved", {308: MOVED_TO}, (ASSET_ID,),
              deprecated=True),
    Operation("GET", "/v1/assets/{asset_id}/steering/{kind}", "steeringManifestMoved",
              "Moved: GET /v1/playback/{asset_id}/steering/{kind}", "moved", {308: MOVED_TO},
              (ASSET_ID, Param("kind", "path", {"type": "string"})), deprecated=True),
    Operation("GET", "/v1/assets/{asset_id}/progress", "getProgressMoved",
              "Moved: GET /v1/progress/{asset_id}", "moved", {308: MOVED_TO}, (ASSET_ID,),
              deprecated=True),
    Operation("PUT", "/v1/assets/{asset_id}/progress", "putProgressMoved",
              "Moved: PUT /v1/progress/{asset_id}", "moved", {308: MOVED_TO}, (ASSET_ID,),
              deprecated=True),
]  # fmt: skip

OPERATIONS = [
    *TITLES, *ASSETS, *CAPTIONS, *MOVED, *health_operations("requests, pools, cache"),
    diagnostics.operation("catalog"),
]  # fmt: skip
