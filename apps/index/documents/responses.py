"""A whole-index document as an HTTP answer: streamed from its segment files, with its length,
and gzipped when the client takes gzip, from the stored deflate (compressed once, at update
time; GZipMiddleware leaves an answer with a Content-Encoding alone)."""

import re
from collections.abc import Mapping

from django.http import HttpRequest, StreamingHttpResponse
from django.utils.cache import patch_vary_headers

from .store import Manifest

# GZipMiddleware's own test of Accept-Encoding, so that the two never disagree.
_ACCEPTS_GZIP = re.compile(r"\bgzip\b")


def accepts_gzip(request: HttpRequest) -> bool:
    return bool(_ACCEPTS_GZIP.search(request.headers.get("Accept-Encoding", "")))


def document_response(
    request: HttpRequest,
    manifest: Manifest,
    fmt: str,
    *,
    content_type: str,
    headers: Mapping[str, str],
) -> StreamingHttpResponse:
    """``manifest``'s document ``fmt``; a strong ETag in ``headers`` turns weak when gzipped,
    as GZipMiddleware makes it (caching.not_modified compares weakly)."""
    gzip = accepts_gzip(request)
    response = StreamingHttpResponse(
        manifest.chunks(fmt, gzip=gzip), content_type=content_type, headers=headers
    )
    response["Content-Length"] = str(manifest.length(fmt, gzip=gzip))
    if gzip:
        response["Content-Encoding"] = "gzip"
        etag = response.get("ETag")
        if etag and not etag.startswith("W/"):
            response["ETag"] = f"W/{etag}"
    patch_vary_headers(response, ("Accept-Encoding",))
    return response
