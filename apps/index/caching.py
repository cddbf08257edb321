"""Rendered bodies kept in Django's cache, and the conditional answers around them.

A rendered body is a pure function of what identifies it (project, serial, version, base URL,
...) and of this code, so the cache key and the ETag are both derived from those parts: a
client's ``If-None-Match`` is answered without rendering, and bumping ``RENDER_VERSION`` after a
change of output turns every cached body and ETag over.

Every index view answers in the same order: compute its headers (the ETag from a serial or a
sha256, never from a body), ``not_modified`` (304), then for HEAD ``head_response`` (the headers,
no body, nothing read or rendered), and only then the body.
"""

import hashlib
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TypeVar

from django.core.cache import cache
from django.http import HttpRequest, HttpResponseNotModified, StreamingHttpResponse
from django.utils.cache import patch_vary_headers
from django.utils.http import parse_etags, parse_http_date_safe

T = TypeVar("T")

RENDER_VERSION = "2"  # 2: simple API 1.4 (provenance, project status)
# A key holds one serial's rendering; a newer serial means a new key, so no invalidation is
# needed and old entries simply age out.
CACHE_TIMEOUT = 24 * 60 * 60
# Room for some 50 of the ETags the index sends; clients send one or a few.
MAX_IF_NONE_MATCH_LENGTH = 4096


def render_key(kind: str, *parts: object) -> str:
    """A short, backend-safe cache key (memcached forbids spaces and long keys)."""
    digest = hashlib.sha256(repr((RENDER_VERSION, kind, *parts)).encode()).hexdigest()
    return f"pypimirror:{kind}:{digest}"


def etag_for_key(key: str) -> str:
    """The strong ETag of the body cached under ``key``."""
    return f'"{key.rsplit(":", 1)[1][:40]}"'


def cached(key: str, render: Callable[[], T]) -> T:
    """The value cached under ``key``, rendered and stored on a miss (``None`` is cached too)."""
    hit = cache.get(key)
    if hit is not None:
        return hit[0]
    value = render()
    cache.set(key, (value,), CACHE_TIMEOUT)
    return value


def cache_peek(key: str) -> tuple | None:
    """``(value,)`` when ``key`` is cached (``value`` may be None), else None; never renders."""
    return cache.get(key)


def etag_matches(request: HttpRequest, etag: str) -> bool:
    """Whether ``If-None-Match`` names ``etag``, by weak comparison (RFC 9110 13.1.2).

    Weak, because GZipMiddleware turns a strong ETag weak when it compresses the body. A header
    longer than ``MAX_IF_NONE_MATCH_LENGTH`` matches nothing (the full answer is always right),
    so the work is bounded whatever the front server lets through; parsing it is linear.
    """
    header = request.headers.get("If-None-Match")
    if not header or len(header) > MAX_IF_NONE_MATCH_LENGTH:
        return False
    candidates = parse_etags(header)
    if candidates == ["*"]:
        return True
    return any(candidate.removeprefix("W/") == etag.removeprefix("W/") for candidate in candidates)


def not_modified(
    request: HttpRequest,
    headers: Mapping[str, str],
    *,
    last_modified: datetime | None = None,
    compressible: bool = True,
) -> HttpResponseNotModified | None:
    """The 304 for a client that holds the representation ``headers`` describe, else None.

    ``headers`` are the 200's own (their ``ETag`` is compared), computed before any body is read
    or rendered. ``If-None-Match`` decides when sent; otherwise ``If-Modified-Since`` does, if
    the view has a ``last_modified`` (RFC 9110 13.2.2). A ``compressible`` answer may have gone
    out gzipped with a weak ETag: the 304 echoes the form the client holds and varies on
    Accept-Encoding as the 200 does.
    """
    etag = headers["ETag"]
    if request.headers.get("If-None-Match"):
        if not etag_matches(request, etag):
            return None
    else:
        since = parse_http_date_safe(request.headers.get("If-Modified-Since", ""))
        if last_modified is None or since is None or int(last_modified.timestamp()) > since:
            return None
    response = HttpResponseNotModified(headers=headers)
    if compressible:
        if f"W/{etag}" in request.headers.get("If-None-Match", ""):
            response["ETag"] = f"W/{etag}"
        patch_vary_headers(response, ("Accept-Encoding",))
    return response


def head_response(
    headers: Mapping[str, str],
    *,
    content_type: str,
    length: int | None,
    compressible: bool = True,
) -> StreamingHttpResponse:
    """GET's headers without a body, for HEAD: nothing is read, rendered or sent.

    ``length`` is the body's size when known without reading or rendering it (the catalog's
    size, a cached rendering), else None and no Content-Length is sent (RFC 9110 9.3.2 allows
    that). Streaming, so no middleware measures the empty body as ``Content-Length: 0``.
    """
    response = StreamingHttpResponse((), content_type=content_type, headers=headers)
    if length is not None:
        response["Content-Length"] = str(length)
    if compressible:
        patch_vary_headers(response, ("Accept-Encoding",))
    return response
