"""The blob store's filesystem backend: saves are atomic renames, names are never altered."""

import contextlib
import os
import tempfile
from collections.abc import Iterable
from functools import cached_property

from django.conf import settings
from django.core.files.storage import FileSystemStorage


class BlobFileSystemStorage(FileSystemStorage):
    """Content-addressed storage: one name always holds the same bytes.

    Django's FileSystemStorage writes in place (a crash leaves a partial file under the final
    name) and renames a clashing name; here a save lands whole or not at all, and a second save
    of a name replaces it with identical bytes.
    """

    def get_available_name(self, name: str, max_length: int | None = None) -> str:
        return name

    def _save(self, name: str, content) -> str:
        full_path = self.path(name)
        temporary = getattr(content, "temporary_file_path", None)
        if temporary is not None:
            self._set_mode(temporary())
            try:
                _replace(temporary(), full_path)
                return name
            except OSError:
                pass  # another filesystem: copy below
        if hasattr(content, "seek"):
            content.seek(0)
        self._write_staged(full_path, content.chunks())
        return name

    def place_staged(self, staged: str, name: str) -> bool:
        """Move a staged file (the blob writer's) to ``name`` by a rename, without opening or
        copying it: False, nothing done, when it is on another filesystem (``save`` copies).
        Replacing a blob already there is harmless: a name always holds the same bytes."""
        if not self._stages_in_tmp:
            return False
        self._set_mode(staged)
        _replace(staged, self.path(name))
        return True

    def save_bytes(self, name: str, data: bytes) -> None:
        """``save`` for bytes in memory (a metadata file), without wrapping them in a File."""
        self._write_staged(self.path(name), [data])

    def _write_staged(self, full_path: str, chunks: Iterable[bytes]) -> None:
        """Write ``chunks`` to a staged file, then rename it to ``full_path``: whole or not at
        all. Staged in TMP_DIR (swept by maintenance) when a rename from there is atomic, else
        beside the target; the target's directories are made only if the rename needs them."""
        staging = settings.TMP_DIR if self._stages_in_tmp else os.path.dirname(full_path)
        fd, partial = temporary_file(staging, prefix=".partial-")
        try:
            try:
                for chunk in chunks:
                    write_all(fd, chunk)
                if self.file_permissions_mode is not None:
                    os.fchmod(fd, self.file_permissions_mode)
            finally:
                os.close(fd)
            _replace(partial, full_path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(partial)
            raise

    @cached_property
    def _stages_in_tmp(self) -> bool:
        os.makedirs(settings.TMP_DIR, exist_ok=True)
        os.makedirs(self.location, exist_ok=True)
        return os.stat(settings.TMP_DIR).st_dev == os.stat(self.location).st_dev

    def _set_mode(self, path: str) -> None:
        """FILE_UPLOAD_PERMISSIONS (0o644 by default), so nginx may send the blob itself
        (X-Accel-Redirect); a temporary file starts out as 0o600."""
        if self.file_permissions_mode is not None:
            os.chmod(path, self.file_permissions_mode)


def temporary_file(directory: str | os.PathLike, *, prefix: str) -> tuple[int, str]:
    """``tempfile.mkstemp`` in ``directory``, making the directory when it is missing (the
    first file of a new data directory; trying first costs no system call in the usual case)."""
    try:
        return tempfile.mkstemp(prefix=prefix, dir=directory)
    except FileNotFoundError:
        os.makedirs(directory, exist_ok=True)
        return tempfile.mkstemp(prefix=prefix, dir=directory)


def write_all(fd: int, data: bytes) -> None:
    """Write all of ``data`` to a raw descriptor (a buffered file object costs four system
    calls more per file: fstat, ioctl, lseek and a flush)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _replace(source: str, target: str) -> None:
    """os.replace, making the target's directories when it finds them missing (the first blob
    of its folder; a failed rename costs one system call)."""
    try:
        os.replace(source, target)
    except FileNotFoundError:
        if not os.path.exists(source):
            raise
        os.makedirs(os.path.dirname(target), exist_ok=True)
        os.replace(source, target)
