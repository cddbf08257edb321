"""A whole-index document as an HTTP answer: sent from its whole file (whole.py), or streamed
from its segment files when that cannot be had, with its length; gzipped when the client takes
gzip, from the stored deflate (compressed once, at update time; GZipMiddleware leaves an
answer with a Content-Encoding alone)."""

import re
from collections.abc import Mapping

from django.http import FileResponse, HttpRequest, StreamingHttpResponse
from django.utils.cache import patch_vary_headers

from .store import Manifest
from .whole import whole_open

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
) -> StreamingHttpResponse | FileResponse:
    """``manifest``'s document ``fmt``; a strong ETag in ``headers`` turns weak when gzipped,
    as GZipMiddleware makes it (caching.not_modified compares weakly)."""
    gzip = accepts_gzip(request)
    whole = whole_open(manifest, fmt, gzip=gzip)
    if whole is not None:
        # FileResponse sets Content-Length from the file; no Content-Disposition: a page
        response = FileResponse(whole, content_type=content_type, headers=headers)
        del response["Content-Disposition"]
    else:
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
