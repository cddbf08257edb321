"""``/packages/<path>``: distribution files and their PEP 658 ``.metadata`` files.

The path is resolved through the catalog (``apps.index.files``), never joined onto a directory.
Files are immutable (content-addressed), so they carry a long Cache-Control, a strong ETag (the
sha256 of the bytes served), Last-Modified (the upload time) and answer ``If-None-Match`` /
``If-Modified-Since`` with 304. One byte range is served as 206; the bytes are streamed, never
read whole into memory; a Range refused as excessive (apps/index/ranges.py) is a 416 saying
why. HEAD answers from the catalog's row (size, sha256, upload time) and, for a ``.metadata``
file, the storage's size: the blob is never opened (on S3 an open is a GET).

With ``PYPIMIRROR_X_ACCEL_REDIRECT`` set to a path prefix (e.g. ``/_store/``), the view only
checks the request and answers ``X-Accel-Redirect: <prefix><blob path>``, and nginx sends the
bytes from an ``internal`` location whose alias is the store directory (nginx then handles
Range and Content-Length itself).

On S3 (``apps/catalog/storage_s3.py``) the storage's ``serve`` decides: ``redirect`` answers a
302 to a presigned URL of the object once the request is checked (validators and 304 first, as
here); ``stream`` reads the object as a local blob is read, through the storage's streaming
file (a Range is one GET: of those bytes alone when the catalog holds the size, else of the
whole small file, read up to the range), and HEAD still answers from the catalog. An S3 that
cannot answer (down, refusing the node's credentials, throttling, no such bucket), or no
credentials to sign a redirect with, is a 503 with Retry-After, never a 404 or a 500: the
file is there as far as anyone knows.
"""

import logging
from urllib.parse import quote

from django.conf import settings
from django.db import connection
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.http import http_date
from django.views.decorators.http import require_safe

from apps.catalog.blobstore import BlobStoreUnavailable, blob_storage

from ..caching import head_response, not_modified
from ..files import (
    StoredFile,
    stored_file_gone,
    stored_file_resolve,
    stored_provenance_gone,
    stored_provenance_resolve,
)
from ..ranges import ByteRange, Unsatisfiable, requested_range

logger = logging.getLogger(__name__)

CACHE_CONTROL = "public, max-age=31536000, immutable"
BLOCK_SIZE = 64 * 1024
RETRY_AFTER = 30  # seconds: an outage of the store is seldom shorter


class _Slice:
    """``length`` bytes of an open file from its current position, read in blocks."""

    def __init__(self, file, length: int) -> None:
        self._file = file
        self._remaining = length

    def read(self, size: int = -1) -> bytes:
        if self._remaining <= 0:
            return b""
        if size is None or size < 0 or size > self._remaining:
            size = self._remaining
        data = self._file.read(size)
        self._remaining -= len(data)
        return data

    def close(self) -> None:
        self._file.close()


def _not_found() -> HttpResponse:
    return HttpResponse("Not Found\n", status=404, content_type="text/plain; charset=utf-8")


def _store_unavailable(stored: StoredFile, problem: BlobStoreUnavailable) -> HttpResponse:
    """503: the store could not be asked. Logged here once, with the reason; the client is told
    no more than that (no bucket, no endpoint, no credential)."""
    logger.error("blob %s not served: the store is unavailable: %s", stored.storage_path, problem)
    response = HttpResponse(
        "Service Unavailable: the file store cannot be reached; try again later.\n",
        status=503,
        content_type="text/plain; charset=utf-8",
        headers={"Retry-After": str(RETRY_AFTER), "Cache-Control": "no-store"},
    )
    response._has_been_logged = True  # by the line above: django.request's would say less
    return response


def _head(stored: StoredFile, headers: dict[str, str]) -> HttpResponse:
    """HEAD: the size from the row, or (a metadata file) from the storage, never the bytes."""
    try:
        size = stored.size if stored.size is not None else blob_storage().size(stored.storage_path)
    except BlobStoreUnavailable as problem:
        return _store_unavailable(stored, problem)
    except OSError:
        logger.exception("stored blob %s cannot be read", stored.storage_path)
        return _not_found()
    return head_response(headers, content_type=stored.content_type, length=size, compressible=False)


def _gone() -> HttpResponse:
    """A file taken down here (apps/catalog/takedowns.py): 410, so that clients and caches
    know it was removed on purpose and is not coming back at this URL by itself."""
    return HttpResponse(
        "Gone: this file was taken down\n", status=410, content_type="text/plain; charset=utf-8"
    )


@require_safe
def serve_file(request: HttpRequest, path: str) -> HttpResponse:
    stored = stored_file_resolve(path)
    if stored is None and stored_file_gone(path):
        return _gone()
    return serve_stored(request, stored)


@require_safe
def serve_provenance(request: HttpRequest, project: str, version: str, filename: str):
    """PEP 740: a file's provenance document, stored by its sha256 like the file itself."""
    stored = stored_provenance_resolve(project=project, version=version, filename=filename)
    if stored is None and stored_provenance_gone(filename=filename):
        return _gone()
    return serve_stored(request, stored)


def serve_stored(request: HttpRequest, stored: StoredFile | None) -> HttpResponse:
    """Stored bytes, with their validators, conditional requests and one byte range."""
    if stored is None:
        return _not_found()
    etag = f'"{stored.sha256}"'
    headers = {
        "ETag": etag,
        "Last-Modified": http_date(stored.last_modified.timestamp()),
        "Cache-Control": CACHE_CONTROL,
        "Accept-Ranges": "bytes",
    }
    unchanged = not_modified(
        request, headers, last_modified=stored.last_modified, compressible=False
    )
    if unchanged is not None:
        return unchanged

    accel_prefix = settings.PYPIMIRROR_X_ACCEL_REDIRECT
    if accel_prefix:
        response = HttpResponse(content_type=stored.content_type, headers=headers)
        response["X-Accel-Redirect"] = accel_prefix.rstrip("/") + "/" + quote(stored.storage_path)
        return response
    storage = blob_storage()
    if getattr(storage, "serve", None) == "redirect":
        return _presigned_redirect(request, storage, stored)
    if request.method == "HEAD":
        return _head(stored, headers)

    blob = None
    size = stored.size
    try:
        if size is None:  # a metadata or provenance file: its size is the storage's
            blob = storage.open(stored.storage_path, "rb")
            size = blob.size
        byte_range = requested_range(
            request, size=size, etag=etag, last_modified=stored.last_modified
        )
        if blob is None:
            blob = _blob_open(storage, stored.storage_path, byte_range)
        elif byte_range is not None:
            blob.seek(byte_range.start)
    except Unsatisfiable as refusal:
        if blob is not None:
            blob.close()
        return HttpResponse(
            f"Range Not Satisfiable: {refusal}\n",
            status=416,
            content_type="text/plain; charset=utf-8",
            headers={**headers, "Content-Range": f"bytes */{size}"},
        )
    except BlobStoreUnavailable as problem:
        return _store_unavailable(stored, problem)
    except OSError:
        logger.exception("stored blob %s cannot be read", stored.storage_path)
        return _not_found()

    if byte_range is None:
        response = FileResponse(blob, content_type=stored.content_type, headers=headers)
        response["Content-Length"] = str(size)
    else:
        response = FileResponse(
            _Slice(blob, byte_range.length),
            status=206,
            content_type=stored.content_type,
            headers={**headers, "Content-Range": byte_range.content_range(size)},
        )
        response["Content-Length"] = str(byte_range.length)
    # FileResponse names the blob in Content-Disposition; a download needs no such header.
    del response["Content-Disposition"]
    response.block_size = BLOCK_SIZE
    _pooled_connection_release()
    return response


def _blob_open(storage, path: str, byte_range: ByteRange | None):
    """The blob, positioned at the range's start: on S3 one GET of the range's bytes alone
    (``open_range``), not a GET of the whole object dropped for a ranged one."""
    if byte_range is not None and hasattr(storage, "open_range"):
        return storage.open_range(path, start=byte_range.start, end=byte_range.end)
    blob = storage.open(path, "rb")
    if byte_range is not None:
        blob.seek(byte_range.start)
    return blob


def _presigned_redirect(request: HttpRequest, storage, stored: StoredFile) -> HttpResponse:
    """S3 with ``PYPIMIRROR_S3_SERVE=redirect``: a 302 to a URL of the object signed for this
    method (GET or HEAD) and valid ``PYPIMIRROR_S3_URL_EXPIRY`` seconds; the bytes, ranges
    included, then come from S3. Signing is local: no request to S3 is made here. The 302 is
    never stored by a cache (``no-store``): its URL expires, the file's own URL does not."""
    try:
        location = storage.presigned_url(stored.storage_path, method=request.method)
    except BlobStoreUnavailable as problem:
        return _store_unavailable(stored, problem)
    response = HttpResponseRedirect(location)
    response["Cache-Control"] = "no-store"
    return response


def _pooled_connection_release() -> None:
    """Give a pooled database connection back before the bytes stream: a slow download would
    otherwise hold one of the pool's few connections (PYPIMIRROR_DB_POOL, gevent workers on
    PostgreSQL) for minutes, and enough of them would stall every page of the worker."""
    if connection.settings_dict.get("OPTIONS", {}).get("pool") and not connection.in_atomic_block:
        connection.close()
