"""Rendered bodies kept in Django's cache, and the conditional-request checks around them.

A rendered body is a pure function of what identifies it (project, serial, version, base URL,
...) and of this code, so the cache key and the ETag are both derived from those parts: a
client's ``If-None-Match`` is answered without rendering, and bumping ``RENDER_VERSION`` after a
change of output turns every cached body and ETag over.
"""

import hashlib
from collections.abc import Callable
from typing import TypeVar

from django.core.cache import cache
from django.http import HttpRequest
from django.utils.http import parse_etags

T = TypeVar("T")

RENDER_VERSION = "2"  # 2: simple API 1.4 (provenance, project status)
# A key holds one serial's rendering; a newer serial means a new key, so no invalidation is
# needed and old entries simply age out.
CACHE_TIMEOUT = 24 * 60 * 60


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


def etag_matches(request: HttpRequest, etag: str) -> bool:
    """Whether ``If-None-Match`` names ``etag``, by weak comparison (RFC 9110 13.1.2).

    Weak, because GZipMiddleware turns a strong ETag weak when it compresses the body.
    """
    header = request.headers.get("If-None-Match")
    if not header:
        return False
    candidates = parse_etags(header)
    if candidates == ["*"]:
        return True
    return any(candidate.removeprefix("W/") == etag.removeprefix("W/") for candidate in candidates)
