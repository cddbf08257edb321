"""The content-addressed blob store: bytes are hashed while they arrive, checked, then placed.

Blobs live at ``packages/<h[:2]>/<h[2:]>-<filename>`` (h = sha256) in the ``blobs`` storage,
so local disk and S3 are one code path: 256 folders, as git keeps its objects. A folder per blob
(PyPI's URL layout, ``packages/<h[:2]>/<h[2:4]>/<h[4:]>/<filename>``) would cost two folders per
file on a first sync, each several times dearer to make than the file, and a disk block each;
the URLs clients see keep PyPI's layout (``file_url_path``), whatever the storage's. A filename
too long for the flat name, and blobs stored before, keep PyPI's layout in the storage too.
A blob is written to a temporary file, verified, and only then moved into place (on S3, which
has no rename: uploaded once under its final key, ``storage_s3.py``); it is never rewritten
with other bytes.
"""

import contextlib
import hashlib
import json
import os
import re
import socket
from dataclasses import dataclass
from typing import BinaryIO, Self

from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import Storage, storages
from packaging.utils import canonicalize_name

from .storage import temporary_file, write_all

CHUNK_SIZE = 1024 * 1024
METADATA_SUFFIX = ".metadata"
_NAME_MAX = 255  # bytes in one path component, on every common filesystem
KEEP_IN_MEMORY = 1024 * 1024
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
# Characters no distribution filename holds: separators, NUL and other controls.
_BAD_FILENAME_RE = re.compile(r"[/\\\x00-\x1f\x7f]")


def temporary_blob_prefix(project: str | None = None) -> str:
    """The start of a temporary blob's name: ``blob-<project tag>-<host tag>-<pid>-``, so the
    next sync of the project finds the files its dead downloads left (maintenance.py,
    ``temporary_blobs_remove_dead``); ``blob-`` alone for a blob of no project."""
    if project is None:
        return "blob-"
    return f"{project_blob_prefix(project)}{os.getpid()}-"


def project_blob_prefix(project: str) -> str:
    """The start of every temporary blob this host writes for ``project`` (any process)."""
    tag = hashlib.blake2b(canonicalize_name(project).encode(), digest_size=6).hexdigest()
    return f"blob-{tag}-{_HOST_TAG}-"


_HOST_TAG = hashlib.blake2b(socket.gethostname().encode(), digest_size=4).hexdigest()


class BlobError(Exception):
    """Bytes that cannot be accepted into the store; nothing was stored."""


class BlobStoreUnavailable(Exception):
    """The store could not be asked about a blob (S3 unreachable, refusing the node's
    credentials, throttling, no such bucket): no news of the blob, which may be sound. Not an
    OSError, so no caller takes it for a missing file. Its message is the reason, for a log
    line; it never holds a credential."""


def blob_storage() -> Storage:
    return storages["blobs"]


def validate_filename(filename: str) -> str:
    """Reject a filename that could escape its directory or is not a plain file name."""
    if (
        not filename
        or len(filename) > 255
        or _BAD_FILENAME_RE.search(filename)
        or ".." in filename
        or filename.startswith(".")
    ):
        raise BlobError(f"unsafe filename {filename!r}")
    return filename


def blob_path(*, sha256: str, filename: str) -> str:
    """Where new bytes of this sha256 and filename are stored; BlobError for a bad name."""
    if not _SHA256_RE.match(sha256):
        raise BlobError(f"not a sha256 hex digest: {sha256!r}")
    validate_filename(filename)
    flat = f"{sha256[2:]}-{filename}"
    if len(flat.encode()) + len(METADATA_SUFFIX) > _NAME_MAX:
        return file_url_path(sha256=sha256, filename=filename)
    return f"packages/{sha256[:2]}/{flat}"


def blob_paths_accepted(*, sha256: str, filename: str) -> tuple[str, str]:
    """Where bytes of this sha256 and filename may be stored: as now, or as blobs were before
    (PyPI's layout). BlobError for a bad name."""
    return blob_path(sha256=sha256, filename=filename), file_url_path(
        sha256=sha256, filename=filename
    )


def file_url_path(*, sha256: str, filename: str) -> str:
    """The file's path in URLs (after the base URL), PyPI's: ``packages/<h[:2]>/<h[2:4]>/
    <h[4:]>/<filename>``, whose last part is the filename clients take. Unchecked: for a
    sha256 and filename the catalog holds (``blob_path`` checked them)."""
    return f"packages/{sha256[:2]}/{sha256[2:4]}/{sha256[4:]}/{filename}"


@dataclass(frozen=True)
class VerifiedFile:
    """A file whose bytes are in the store under their checked sha256."""

    filename: str
    size: int
    sha256: str
    md5: str
    blake2b_256: str
    blob_path: str


class _TemporaryFile(File):
    """A File that the blob storage may move rather than copy."""

    def temporary_file_path(self) -> str:
        return self.name


class BlobWriter:
    """Receives a file's bytes chunk by chunk, hashing as they come; ``commit`` places them.

    ``expected_size`` is enforced while writing, so an upstream that sends more than it listed
    is cut off at once rather than filling the disk.
    """

    def __init__(
        self,
        *,
        filename: str,
        expected_sha256: str | None = None,
        expected_size: int | None = None,
        max_size: int | None = None,
        keep_small: bool = False,
        project: str | None = None,
    ) -> None:
        self.filename = validate_filename(filename)
        self.expected_sha256 = expected_sha256.lower() if expected_sha256 else None
        self.expected_size = expected_size
        self.max_size = max_size
        self.size = 0
        self._sha256 = hashlib.sha256()
        self._md5 = hashlib.md5(usedforsecurity=False)
        self._blake2b = hashlib.blake2b(digest_size=32)
        self._fd, self._path = temporary_file(
            settings.TMP_DIR, prefix=temporary_blob_prefix(project)
        )
        self._closed = self._moved = False
        # ``keep_small``: a small file's bytes are kept too, so reading its metadata needs no
        # file (``content``). ``project``: the project it is downloaded for, named in the
        # temporary file's name (``temporary_blob_prefix``).
        self._content: bytearray | None = bytearray() if keep_small else None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info) -> None:
        self.discard()

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        limit = self.expected_size if self.expected_size is not None else self.max_size
        if limit is not None and self.size > limit:
            raise BlobError(f"{self.filename}: more than the {limit} bytes expected")
        self._sha256.update(chunk)
        self._md5.update(chunk)
        self._blake2b.update(chunk)
        write_all(self._fd, chunk)
        if self._content is not None:
            self._content += chunk
            if len(self._content) > KEEP_IN_MEMORY:
                self._content = None

    @property
    def path(self) -> str:
        """The temporary file holding what was written so far (read it only after ``verify``)."""
        return self._path

    @property
    def content(self) -> bytes | None:
        """What was written, for a file of at most ``KEEP_IN_MEMORY`` bytes written with
        ``keep_small``; else None."""
        return None if self._content is None else bytes(self._content)

    def _close(self) -> None:
        if not self._closed:
            self._closed = True
            os.close(self._fd)

    def verify(self) -> str:
        """Stop writing and check size and sha256; return the sha256 or raise BlobError."""
        self._close()
        self._digest = self._sha256.hexdigest()
        if self.expected_size is not None and self.size != self.expected_size:
            raise BlobError(
                f"{self.filename}: {self.size} bytes received, {self.expected_size} expected"
            )
        if self.expected_sha256 is not None and self._digest != self.expected_sha256:
            raise BlobError(
                f"{self.filename}: sha256 {self._digest} does not match the expected "
                f"{self.expected_sha256}"
            )
        return self._digest

    def commit(self) -> VerifiedFile:
        """Verify, then move the bytes into place; raises BlobError if they are wrong."""
        sha256 = self.verify()
        path = blob_path(sha256=sha256, filename=self.filename)
        storage = blob_storage()
        self._moved = hasattr(storage, "place_staged") and storage.place_staged(self._path, path)
        if not self._moved and not (storage.exists(path) and storage.size(path) == self.size):
            with _TemporaryFile(open(self._path, "rb"), name=self._path) as content:
                storage.save(path, content)
        return VerifiedFile(
            filename=self.filename,
            size=self.size,
            sha256=sha256,
            md5=self._md5.hexdigest(),
            blake2b_256=self._blake2b.hexdigest(),
            blob_path=path,
        )

    def discard(self) -> None:
        """Remove the temporary file, if it was not moved into place."""
        self._close()
        if not self._moved:  # its name is free again: another writer's may have taken it
            with contextlib.suppress(FileNotFoundError):  # moved by the storage's own save
                os.unlink(self._path)


def blob_put_file(
    fileobj: BinaryIO, *, filename: str, expected_sha256: str | None = None
) -> VerifiedFile:
    """Copy a readable binary file into the store."""
    with BlobWriter(filename=filename, expected_sha256=expected_sha256) as writer:
        while chunk := fileobj.read(CHUNK_SIZE):
            writer.write(chunk)
        return writer.commit()


def metadata_put(*, blob_path: str, data: bytes, expected_sha256: str | None = None) -> str:
    """Store a distribution's core metadata (PEP 658) beside it; return its sha256."""
    sha256 = hashlib.sha256(data).hexdigest()
    if expected_sha256 is not None and sha256 != expected_sha256.lower():
        raise BlobError(f"metadata of {blob_path}: sha256 {sha256} does not match")
    storage = blob_storage()
    name = f"{blob_path}{METADATA_SUFFIX}"
    if hasattr(storage, "save_bytes"):
        storage.save_bytes(name, data)
    elif not (storage.exists(name) and storage.size(name) == len(data)):
        storage.save(name, ContentFile(data))
    return sha256


# PEP 740 provenance documents: JSON of a few kilobytes each (a Sigstore bundle per
# attestation); anything much larger is not one.
MAX_PROVENANCE_SIZE = 1024 * 1024


def provenance_blob_path(sha256: str) -> str:
    """Where a provenance document is stored: by its own sha256, like any blob. Unchecked: for
    a sha256 the catalog holds (``provenance_put`` made it)."""
    return f"provenance/{sha256[:2]}/{sha256[2:]}.json"


def provenance_check(data: bytes) -> None:
    """BlobError unless ``data`` may be a PEP 740 provenance document: a JSON object of at most
    ``MAX_PROVENANCE_SIZE`` bytes."""
    if len(data) > MAX_PROVENANCE_SIZE:
        raise BlobError(f"provenance larger than {MAX_PROVENANCE_SIZE} bytes")
    try:
        document = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BlobError(f"provenance is not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise BlobError("provenance is not a JSON object")


def provenance_put(data: bytes) -> str:
    """Store a PEP 740 provenance document (checked by ``provenance_check``); return its sha256.
    BlobError, nothing stored, when it is not one."""
    provenance_check(data)
    sha256 = hashlib.sha256(data).hexdigest()
    name = provenance_blob_path(sha256)
    storage = blob_storage()
    if hasattr(storage, "save_bytes"):
        storage.save_bytes(name, data)
    elif not (storage.exists(name) and storage.size(name) == len(data)):
        storage.save(name, ContentFile(data))
    return sha256
