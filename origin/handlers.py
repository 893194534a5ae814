"""Serving published files: token check, then bytes from storage with HTTP done right."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from uuid import UUID

from aiohttp import web

from origin import renditions, rewrite, steering
from origin.files import POLICIES, Kind, Policy, kind_of
from origin.paths import public_path, storage_key
from origin.resources import CACHE_KEY, DISK_KEY, METRICS_KEY, STORAGE_KEY
from streamcore import cmcd
from streamcore.signing import TokenError
from streamcore.storage import (
    NotModified,
    ObjectInfo,
    ObjectStream,
    PreconditionFailed,
    RangeNotSatisfiable,
)
from streamcore.web import ranges
from streamcore.web.access import Forbidden, authorize, path_token_request
from streamcore.web.file_response import respond_file
from streamcore.web.media_types import content_type_for
from streamcore.web.paths import canonical_request_path
from streamcore.web.representation import (
    Representation,
    head_response,
    http_date,
    not_modified,
    respond,
    validators,
)
from streamcore.web.service import SETTINGS_KEY, NotFound

log = logging.getLogger(__name__)

REWRITERS: dict[Kind, Callable[[str, str], str]] = {
    Kind.PLAYLIST: rewrite.rewrite_playlist,
    Kind.MPD: rewrite.rewrite_mpd,
    Kind.VTT: rewrite.rewrite_vtt,
}


# A manifest that carries the viewer's token is the viewer's own. Shared caches must not keep
# it: the edge, for one, keys its cache by the path without the token, so that every viewer
# shares the segments; a kept manifest would hand one viewer's token to the next.
VIEWER_OWN = "private, max-age=60"


async def serve_path_token(request: web.Request) -> web.StreamResponse:
    """``/t/{token}/assets/...``: the token travels in the path."""
    token, path = path_token_request(request)
    return await _serve(request, token, public_path(path), query_token=False)


async def serve_query_token(request: web.Request) -> web.StreamResponse:
    """``/assets/...?token=``: the token travels in the query, and manifests are rewritten."""
    path = public_path(canonical_request_path(request.raw_path.split("?", 1)[0], request.path))
    token = request.query.get(request.app[SETTINGS_KEY].origin.token_param, "")
    return await _serve(request, token, path, query_token=True)


async def _serve(
    request: web.Request, token: str, path: str, *, query_token: bool
) -> web.StreamResponse:
    grant = authorize(request, request.app[SETTINGS_KEY], token, path)
    kind = kind_of(path)
    if kind is None:
        raise NotFound("no such file")
    policy = POLICIES[kind]
    if policy.memory_cached:
        return await _serve_small(
            request, path, kind, policy, token, query_token=query_token, only=grant.only
        )
    if policy.disk_cached and request.method == "GET":
        return await _serve_from_disk(request, path, policy)
    return await _serve_streamed(request, path, policy)


def _is_master(kind: Kind, path: str) -> bool:
    return kind == Kind.PLAYLIST and path.endswith("/master.m3u8")


def _only_renditions(text: str, kind: Kind, path: str, only: frozenset[str]) -> str:
    """A master or MPD listing the token's renditions alone (origin/renditions.py)."""
    try:
        if _is_master(kind, path):
            return renditions.filter_master(text, only)
        return renditions.filter_mpd(text, only)
    except TokenError as exc:
        raise Forbidden(exc) from None


def _headers(path: str, policy: Policy, info: ObjectInfo, etag: str) -> dict[str, str]:
    return {
        "Content-Type": content_type_for(path),
        "Cache-Control": policy.cache_control,
        **validators(etag, info.last_modified, compressible=policy.compressible),
    }


async def _serve_small(
    request: web.Request,
    path: str,
    kind: Kind,
    policy: Policy,
    token: str,
    *,
    query_token: bool,
    only: frozenset[str] | None,
) -> web.StreamResponse:
    app, key = request.app, storage_key(path)
    settings = app[SETTINGS_KEY]
    entry = await app[CACHE_KEY].get(
        key, lambda: app[STORAGE_KEY].get_bytes(settings.s3.media_bucket, key)
    )
    text, cache_control = "", policy.cache_control
    if policy.rewritable:
        text, cache_control = _as_served(
            request, entry.data.decode("utf-8"), path, kind, policy, token,
            query_token=query_token, only=only,
        )  # fmt: skip
    data = text.encode("utf-8") if policy.rewritable else entry.data
    etag = entry.info.etag
    if data != entry.data:
        etag = f"{etag}-{hashlib.sha256(data).hexdigest()[:16]}"
    rep = Representation(
        body=data,
        etag=etag,
        last_modified=entry.info.last_modified,
        headers={"Content-Type": content_type_for(path), "Cache-Control": cache_control},
        compressible=policy.compressible,
    )
    response = await respond(request, rep)
    if isinstance(response, web.Response) and response.body is not None:
        app[METRICS_KEY].bytes_sent.labels("origin", "file").inc(len(response.body))  # type: ignore[arg-type]
    return response


def _as_served(
    request: web.Request,
    text: str,
    path: str,
    kind: Kind,
    policy: Policy,
    token: str,
    *,
    query_token: bool,
    only: frozenset[str] | None,
) -> tuple[str, str]:
    """A manifest as this viewer gets it, and its Cache-Control: cut to the token's renditions,
    with the pathways or the steering tag, URIs carrying a query token."""
    settings, cache_control = request.app[SETTINGS_KEY], policy.cache_control
    if only is not None and (_is_master(kind, path) or kind == Kind.MPD):
        # Cut to one viewer's renditions: the viewer's own, whatever the token mode.
        text, cache_control = _only_renditions(text, kind, path, only), VIEWER_OWN
    asset_id, folder = _asset_folder(path)
    if _is_master(kind, path):
        uri = steering.steering_uri(settings, asset_id, "hls")
        if query_token:
            text = steering.add_hls_steering(text, uri)
        else:
            text = steering.add_hls_pathways(text, settings, token, folder, uri)
            cache_control = VIEWER_OWN
    elif kind == Kind.MPD and not query_token:
        uri = steering.steering_uri(settings, asset_id, "dash")
        text = steering.add_dash_sources(text, settings, token, folder, uri)
        cache_control = VIEWER_OWN
    if query_token:
        # The token and the CDN's signature, not a player's CMCD data (one request's own).
        text = REWRITERS[kind](text, cmcd.without(request.rel_url.raw_query_string))
    return text, cache_control


def _asset_folder(path: str) -> tuple[UUID, str]:
    """/assets/{id}/v{n}/... -> (id, "/assets/{id}/v{n}/")."""
    parts = path.split("/")
    try:
        return UUID(parts[2]), "/".join(parts[:4]) + "/"
    except (ValueError, IndexError):
        raise NotFound("no such file") from None


async def _serve_from_disk(request: web.Request, path: str, policy: Policy) -> web.StreamResponse:
    """Segments from the disk cache (filled from storage once, then sent with sendfile); from
    storage as they are read when the cache does not keep them (off, too large, disk trouble)."""
    app, key = request.app, storage_key(path)
    disk, storage, bucket = app[DISK_KEY], app[STORAGE_KEY], app[SETTINGS_KEY].s3.media_bucket

    async def read() -> ObjectStream:
        started = time.perf_counter()
        stream = await storage.get_stream(bucket, key)
        app[METRICS_KEY].storage_seconds.labels("get").observe(time.perf_counter() - started)
        return stream

    for _ in range(2):  # a file evicted or purged as it was opened: fill it again, once
        entry = disk.lookup(key)
        if entry is None:
            try:
                entry = await disk.fill(key, read)
            except OSError as exc:  # the disk, not storage: serve without the cache
                log.warning("disk cache: %s not kept: %s", key, exc)
                entry = None
        if entry is None:
            return await _serve_streamed(request, path, policy)
        try:
            response = await respond_file(
                request, entry.path, size=entry.info.size, etag=entry.info.etag,
                last_modified=entry.info.last_modified,
                headers={"Content-Type": content_type_for(path),
                         "Cache-Control": policy.cache_control},
            )  # fmt: skip
        except FileNotFoundError:
            disk.forget(key)
            continue
        if response.status in (200, 206) and response.content_length:
            app[METRICS_KEY].bytes_sent.labels("origin", "file").inc(response.content_length)
        return response
    return await _serve_streamed(request, path, policy)


async def _serve_streamed(request: web.Request, path: str, policy: Policy) -> web.StreamResponse:
    """Segments and images: never read whole; ranges and conditions go to storage as-is."""
    app, key = request.app, storage_key(path)
    storage, bucket = app[STORAGE_KEY], app[SETTINGS_KEY].s3.media_bucket
    started = time.perf_counter()
    if request.method == "HEAD":
        info = await storage.head(bucket, key)
        app[METRICS_KEY].storage_seconds.labels("head").observe(time.perf_counter() - started)
        headers = _headers(path, policy, info, info.etag)
        if not_modified(request, info.etag, info.last_modified):
            return web.Response(status=304, headers=headers)
        return await head_response(request, 200, headers, info.size)
    byte_range = ranges.header_if_single(request)
    if_match = ranges.if_range_etag(request) if byte_range else None
    try:
        stream = await storage.get_stream(
            bucket, key, byte_range=byte_range, if_match=if_match,
            if_none_match=request.headers.get("If-None-Match"),
            if_modified_since=http_date(request.headers.get("If-Modified-Since")),
        )  # fmt: skip
    except NotModified:
        info = await storage.head(bucket, key)
        return web.Response(status=304, headers=_headers(path, policy, info, info.etag))
    except PreconditionFailed:
        # If-Range named another version: the whole current object, not a range of it.
        stream = await storage.get_stream(bucket, key)
    except RangeNotSatisfiable:
        info = await storage.head(bucket, key)
        raise ranges.not_satisfiable(info.size) from None
    app[METRICS_KEY].storage_seconds.labels("get").observe(time.perf_counter() - started)
    headers = _headers(path, policy, stream.info, stream.info.etag)
    if stream.content_range:
        headers["Content-Range"] = stream.content_range
    streamed = web.StreamResponse(status=206 if stream.content_range else 200, headers=headers)
    streamed.content_length = stream.content_length
    sent = 0
    try:
        await streamed.prepare(request)
        async for chunk in stream.chunks:
            await streamed.write(chunk)
            sent += len(chunk)
        await streamed.write_eof()
    finally:
        stream.close()
        app[METRICS_KEY].bytes_sent.labels("origin", "file").inc(sent)
    return streamed
