"""Each whole-index document as one file, for the answers that repeat at a serial.

Streaming a document from its ~500 segment files costs a read and a copy per segment in
Python; a single file goes out by the kernel (gunicorn hands Django's FileResponse to
sendfile), with nothing read into the process. So the first answer of a document at a serial
writes it whole (``whole/<key>.<format>[.gz]``, where ``key`` names the manifest), and later
answers send that file. Made on demand, never per update: at PyPI's pace a serial passes every
few seconds and most are never asked for.

Once a newer manifest is current, the update (with the lock held) removes the files of the
older ones at once: a reader that opened one keeps reading it (an open file outlives its
name), and one that had not yet opened it makes it anew or streams from the segments.
"""

import contextlib
import os
import time
from pathlib import Path
from typing import BinaryIO

from .store import Manifest, file_write_new

WHOLE = "whole"


def _path(manifest: Manifest, fmt: str, *, gzip: bool) -> Path:
    return manifest.directory / WHOLE / f"{manifest.key}.{fmt}{'.gz' if gzip else ''}"


def whole_open(manifest: Manifest, fmt: str, *, gzip: bool) -> BinaryIO | None:
    """The document as an open file of ``manifest.length`` bytes, made first when missing;
    None when it cannot be had (the disk is full, say): then stream it from the segments."""
    path = _path(manifest, fmt, gzip=gzip)
    expected = manifest.length(fmt, gzip=gzip)
    for _attempt in range(2):
        try:
            handle = open(path, "rb")  # noqa: SIM115 - the response closes it
        except FileNotFoundError:
            pass
        except OSError:
            return None
        else:
            if os.fstat(handle.fileno()).st_size == expected:
                return handle
            handle.close()  # cut short (a crash before its data reached the disk): made anew
        try:
            _make(manifest, fmt, gzip=gzip, path=path)
        except OSError:
            return None
    return None


def _make(manifest: Manifest, fmt: str, *, gzip: bool, path: Path) -> None:
    """Written under a temporary name, then renamed: a reader sees it whole or not at all. Two
    processes making the same one at once write the same bytes; the later rename wins. Not
    synced: it can always be made again from the segments, which are."""
    path.parent.mkdir(exist_ok=True)
    file_write_new(path, manifest.chunks(fmt, gzip=gzip), sync=False)


def whole_prune(manifest: Manifest) -> int:
    """Remove the whole files (and temporary files) of every manifest but ``manifest``, the
    current one; how many. Call with the update lock held."""
    removed = 0
    folder = manifest.directory / WHOLE
    with contextlib.suppress(FileNotFoundError), os.scandir(folder) as entries:
        for entry in entries:
            if entry.name.startswith(manifest.key + "."):
                continue
            if entry.name.startswith(".tmp-") and not _stale_temporary(entry):
                continue  # being written by a reader of this manifest, or a racing one
            with contextlib.suppress(FileNotFoundError):
                os.unlink(entry.path)
                removed += 1
    return removed


def _stale_temporary(entry: os.DirEntry) -> bool:
    """A temporary file older than a minute: its writer died (a live one takes well under a
    second for the biggest document)."""
    with contextlib.suppress(FileNotFoundError):
        return time.time() - entry.stat().st_mtime > 60
    return False
