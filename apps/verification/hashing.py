"""Reading a stored blob back: its sha256 and size, through the storage API (so any storage
works), or straight from disk when the storage has local paths. On S3 the storage's file
streams the object (apps/catalog/storage_s3.py): one GET, read a chunk at a time, never the
whole object in memory."""

import hashlib
import os
import stat
from dataclasses import dataclass

from django.core.files.storage import Storage

CHUNK_SIZE = 1024 * 1024


@dataclass(frozen=True)
class Digest:
    sha256: str
    size: int


def blob_digest(storage: Storage, name: str, *, max_size: int | None = None) -> Digest | None:
    """The blob's sha256 and size; None when it is not there. A blob larger than ``max_size``
    is not read: its size, and an empty sha256 (no blob of that size can be the one expected).
    hashlib lets go of the GIL while it hashes a chunk, so threads hash files in parallel."""
    try:
        path = storage.path(name)
    except NotImplementedError:  # not on local disk (S3)
        return _digest_via_storage(storage, name, max_size=max_size)
    try:
        fd = os.open(path, os.O_RDONLY)
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None
    try:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode):
            return None
        if max_size is not None and status.st_size > max_size:
            return Digest("", status.st_size)
        return _digest_fd(fd)
    finally:
        os.close(fd)


def _digest_fd(fd: int) -> Digest:
    sha256 = hashlib.sha256()
    buffer = bytearray(CHUNK_SIZE)
    view = memoryview(buffer)
    size = 0
    while count := os.readv(fd, [buffer]):
        sha256.update(view[:count])
        size += count
    return Digest(sha256.hexdigest(), size)


def _digest_via_storage(storage: Storage, name: str, *, max_size: int | None) -> Digest | None:
    try:
        handle = storage.open(name, "rb")
    except FileNotFoundError:
        return None
    except OSError:
        if not storage.exists(name):
            return None
        raise
    sha256 = hashlib.sha256()
    size = 0
    with handle:
        if max_size is not None and handle.size > max_size:  # S3: the open GET's Content-Length
            return Digest("", handle.size)
        while chunk := handle.read(CHUNK_SIZE):
            sha256.update(chunk)
            size += len(chunk)
    return Digest(sha256.hexdigest(), size)
