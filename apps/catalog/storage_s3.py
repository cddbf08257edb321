"""The blob store's S3 backend (django-storages): one upload per blob, reads that stream.

S3 has no rename, so nothing is staged in the bucket: the blob writer hashes and checks the
bytes in its temporary file on local disk first, and only then are they uploaded, once, under
their final key. An S3 PUT (and a multipart upload, at its completion) makes an object visible
whole or not at all, and a failed multipart upload is aborted by boto3, so no reader ever sees
part of a blob. Keys come from the sha256 layout of ``blobstore.py`` alone.

django-storages' own S3File reads a whole object into a temporary buffer (in memory, by its
default) before the first byte is returned; ``S3BlobFile`` here streams instead, so verify
hashes a 20 GB file and the node streams it to a client in bounded memory.
"""

import contextlib
import io
import os

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from django.core.files.base import File
from storages.backends.s3 import S3Storage
from storages.utils import clean_name

from .blobstore import CHUNK_SIZE, BlobStoreUnavailable

# What S3 answers a GET of these objects with (a presigned URL sends clients straight there).
# Never a Content-Encoding: guessed from ".tar.gz" it would be "gzip", and clients would unpack
# an sdist on the way and find its sha256 wrong.
OCTET_STREAM = "application/octet-stream"
PROVENANCE_CONTENT_TYPE = "application/vnd.pypi.integrity.v1+json"
IMMUTABLE = "public, max-age=31536000, immutable"
SERVE_MODES = ("redirect", "stream")
# A seek forward of at most this many bytes reads them from the open GET rather than send a
# new one (a Range of a metadata file, whose size only S3 knows: the open's GET serves it).
SKIP_MAX = 1024 * 1024


def _missing(error: ClientError) -> bool:
    """Whether S3 says the object is not there (a bucket that is not there says nothing of
    the object: the store is misconfigured or gone)."""
    code = error.response.get("Error", {}).get("Code", "")
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    if code == "NoSuchBucket":
        return False
    return status == 404 or code in {"NoSuchKey", "404", "NotFound"}


def _unavailable(error: Exception) -> BlobStoreUnavailable:
    """The error of a request S3 did not answer about the object, as BlobStoreUnavailable: S3's
    error code and HTTP status, or botocore's words for what failed (no credential is in either)."""
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code") or "an error"
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", "?")
        operation = getattr(error, "operation_name", "") or "a request"
        return BlobStoreUnavailable(f"S3 answered {operation} with {code} (HTTP {status})")
    return BlobStoreUnavailable(f"S3 could not be asked: {type(error).__name__}: {error}")


@contextlib.contextmanager
def _s3_errors():
    """botocore's errors, but a missing object, as BlobStoreUnavailable. Some of them (timeouts)
    are OSErrors, which callers would take for a missing file."""
    try:
        yield
    except ClientError as error:
        if _missing(error):
            raise
        raise _unavailable(error) from error
    except BotoCoreError as error:
        raise _unavailable(error) from error


class S3BlobFile(File):
    """A stored object, read-only, streamed: a read takes bytes from one GET of the object from
    the current position (a ``Range`` GET after a seek elsewhere), never the whole object first.

    Opening it sends that GET, so a missing object is FileNotFoundError at once and the size is
    known; a seek to where the open GET already is, or a little ahead (``SKIP_MAX``), costs no
    request. Opened with ``start`` and ``end`` (``BlobS3Storage.open_range``), that one GET asks
    for those bytes alone, and a read past them sends another. An S3 that cannot answer (down,
    refusing, throttling) is BlobStoreUnavailable, never FileNotFoundError.
    """

    def __init__(
        self, storage: "BlobS3Storage", name: str, *, start: int = 0, end: int | None = None
    ) -> None:
        self._storage = storage
        self.name = name
        self.mode = "rb"
        self._key = storage._normalize_name(clean_name(name))
        self._position = start
        self._body = None
        self._body_position = 0
        self._body_end: int | None = None  # the last byte the open GET sends; None: the end
        self._closed = False
        self._get(start, end)

    def _get(self, start: int, end: int | None = None) -> None:
        self._close_body()
        arguments = {"Bucket": self._storage.bucket_name, "Key": self._key}
        if start or end is not None:
            arguments["Range"] = f"bytes={start}-{'' if end is None else end}"
        try:
            answer = self._storage.connection.meta.client.get_object(**arguments)
        except ClientError as error:
            if _missing(error):
                raise FileNotFoundError(f"no such blob: {self.name}") from None
            if error.response.get("Error", {}).get("Code") == "InvalidRange":
                # At or past the end: nothing to read there (an object shorter than asked).
                self._body, self._body_position, self._body_end = io.BytesIO(), start, None
                if not hasattr(self, "_size"):
                    self._size = start
                return
            raise _unavailable(error) from error
        except BotoCoreError as error:
            raise _unavailable(error) from error
        if "Range" not in arguments:
            self._size = answer["ContentLength"]
        elif not hasattr(self, "_size"):  # "bytes <first>-<last>/<size>"
            self._size = int(answer["ContentRange"].rpartition("/")[2])
        self._body, self._body_position, self._body_end = answer["Body"], start, end

    @property
    def size(self) -> int:
        return self._size

    def read(self, size: int = -1) -> bytes:
        if self._position >= self._size:
            return b""
        if self._body is not None and 0 < self._position - self._body_position <= SKIP_MAX:
            self._skip()  # a little ahead in the open GET: cheaper than another request
        if (
            self._body is None
            or self._body_position != self._position
            or (self._body_end is not None and self._position > self._body_end)
        ):
            self._get(self._position)
        wanted = None if size is None or size < 0 else size
        if self._body_end is not None:  # never wait on a body for bytes it does not hold
            left = self._body_end + 1 - self._position
            wanted = left if wanted is None else min(wanted, left)
        data = self._body.read(wanted)
        self._position += len(data)
        self._body_position += len(data)
        return data

    def _skip(self) -> None:
        """Read the open GET's body up to the position (a seek forward, within SKIP_MAX)."""
        while self._body_position < self._position:
            wanted = min(self._position - self._body_position, CHUNK_SIZE)
            if self._body_end is not None:
                wanted = min(wanted, self._body_end + 1 - self._body_position)
            data = self._body.read(wanted) if wanted > 0 else b""
            if not data:
                return  # the body ended: read() sends a GET from the position
            self._body_position += len(data)

    def chunks(self, chunk_size: int | None = None):
        self.seek(0)
        while data := self.read(chunk_size or CHUNK_SIZE):
            yield data

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._position, os.SEEK_END: self._size}[whence]
        self._position = max(0, base + offset)
        return self._position

    def tell(self) -> int:
        return self._position

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True

    def _close_body(self) -> None:
        if self._body is not None:
            self._body.close()
            self._body = None

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        self._close_body()
        self._closed = True

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


class BlobS3Storage(S3Storage):
    """Content-addressed storage in an S3 bucket: one key always holds the same bytes.

    ``serve`` says how the files reach clients (apps/index/views/files.py): ``redirect`` (a 302
    to a presigned URL valid ``url_expiry`` seconds: the bytes go from S3 to the client) or
    ``stream`` (the node reads the object and sends it: for a bucket clients cannot reach).
    """

    def __init__(self, *, serve: str = "redirect", url_expiry: int = 300, **options) -> None:
        if serve not in SERVE_MODES:
            raise ValueError(f"serve must be one of {', '.join(SERVE_MODES)}, not {serve!r}")
        options.setdefault("file_overwrite", True)
        options.setdefault("signature_version", "s3v4")  # presigned URLs too (SigV2 is gone)
        super().__init__(**options)
        if options.get("client_config") is None:
            # boto3 waits 60 s for a connection by default: /readyz would outwait its prober.
            self.client_config = self.client_config.merge(
                Config(connect_timeout=5, read_timeout=60, retries={"mode": "standard"})
            )
        self.serve = serve
        self.url_expiry = url_expiry

    def get_available_name(self, name: str, max_length: int | None = None) -> str:
        return name

    def _get_write_parameters(self, name: str, content=None) -> dict:
        content_type = OCTET_STREAM
        if name.startswith("provenance/") or "/provenance/" in name:
            content_type = PROVENANCE_CONTENT_TYPE
        return {**self.get_object_parameters(name), "ContentType": content_type,
                "CacheControl": IMMUTABLE}  # fmt: skip

    def _open(self, name: str, mode: str = "rb") -> S3BlobFile:
        if "w" in mode or "+" in mode or "a" in mode:
            raise ValueError("blobs are written through save(), never opened for writing")
        return S3BlobFile(self, name)

    def size(self, name: str) -> int:
        """The object's size (a HEAD); FileNotFoundError when it is missing,
        BlobStoreUnavailable when S3 cannot say."""
        with _s3_errors():
            return super().size(name)

    def open_range(self, name: str, *, start: int, end: int) -> S3BlobFile:
        """The object opened for bytes ``start`` to ``end`` (inclusive) with one ranged GET: a
        client's Range costs one request, not a whole GET dropped and then a ranged one."""
        return S3BlobFile(self, name, start=start, end=end)

    def place_staged(self, staged: str, name: str) -> bool:
        """Upload a staged file (the blob writer's, already checked) under its final key, then
        remove the staged copy: True, as a move. An existing object of that key is replaced by
        the same bytes, as on disk. Nothing is visible under the key until the upload is whole.
        """
        key = self._normalize_name(clean_name(name))
        self.bucket.upload_file(
            staged, key, ExtraArgs=self._get_write_parameters(key), Config=self.transfer_config
        )
        os.unlink(staged)
        return True

    def save_bytes(self, name: str, data: bytes) -> None:
        """``save`` for bytes in memory (a metadata or provenance file): one PUT."""
        key = self._normalize_name(clean_name(name))
        self.connection.meta.client.put_object(
            Bucket=self.bucket_name, Key=key, Body=data, **self._get_write_parameters(key)
        )

    def presigned_url(self, name: str, *, method: str = "GET") -> str:
        """A URL that lets anyone ``method`` (GET or HEAD) this object for ``url_expiry``
        seconds, signed here with the node's credentials (no request to S3 is made, but finding
        the credentials may ask a metadata service): BlobStoreUnavailable when there are none."""
        key = self._normalize_name(clean_name(name))
        operation = "head_object" if method == "HEAD" else "get_object"
        with _s3_errors():
            return self.connection.meta.client.generate_presigned_url(
                operation,
                Params={"Bucket": self.bucket_name, "Key": key},
                ExpiresIn=self.url_expiry,
            )
