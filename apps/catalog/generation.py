"""The catalog's generation: a token that changes after every committed change, which any
process of this host reads without a query.

Every change to the catalog is journaled in the transaction that makes it (journal.py); once
that transaction commits, the token in ``DATA_DIR/catalog.generation`` is overwritten with
random bytes. A process that keeps something it read from the catalog (the index's project
refs, apps/index/selectors.py) keeps the token it read *before* reading, and trusts what it
kept only while the token is the same: a change committed after the token was read bumps it
after the commit, so the next look sees a new token.

The token is written in place, never replaced nor truncated, so that readers can map the file
once and read it with no system call (a file put in its place, by a restore say, is mapped
anew within ``RECHECK_SECONDS``). A reader that cannot map it (not readable) gets None and
keeps nothing. What this cannot see (a change on another host sharing the database,
a row edited by hand) readers bound by age (``REF_MAX_AGE`` in the index).
"""

import logging
import mmap
import os
import threading
import time
from pathlib import Path

from django.conf import settings
from django.db import transaction

logger = logging.getLogger(__name__)

TOKEN_SIZE = 16
FILENAME = "catalog.generation"


def _path() -> Path:
    return Path(settings.DATA_DIR) / FILENAME


def catalog_generation_bump() -> None:
    """A new token now. Failing to write it is logged, not raised: the change itself is
    committed, and readers fall back on their age bound."""
    try:
        fd = os.open(_path(), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            os.pwrite(fd, os.urandom(TOKEN_SIZE), 0)
        finally:
            os.close(fd)
    except OSError as exc:
        logger.warning("cannot write the catalog's generation (%s): %s", _path(), exc)


# Changes made by this process, counted at once: what it keeps must not outlive its own
# changes, even before they commit (or when they never do: a test's rolled-back transaction).
_local = [0]


def catalog_changed() -> None:
    """Call inside the transaction of a catalog change: the token is bumped once it commits
    (at once outside a transaction), and this process's own count at once."""
    _local[0] += 1
    transaction.on_commit(catalog_generation_bump)


# How often a reader checks that the file it mapped is still the one at the path (a restore
# may have put another there, whose tokens the old mapping would never show).
RECHECK_SECONDS = 1.0


class _Mapped:
    """The token file mapped read-only, per process (and per path: tests move DATA_DIR)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._dir: object = None
        self._path: Path | None = None
        self._map: mmap.mmap | None = None
        self._inode = 0
        self._checked = 0.0

    def token(self) -> bytes | None:
        data_dir, now = settings.DATA_DIR, time.monotonic()
        if self._map is None or data_dir is not self._dir or now - self._checked > RECHECK_SECONDS:
            with self._lock:
                path = Path(data_dir) / FILENAME
                if self._map is None or path != self._path or not self._same_file(path):
                    self._map, self._inode = _map(path)
                    self._path = path
                self._dir, self._checked = data_dir, now
        mapped = self._map
        return None if mapped is None else mapped[:TOKEN_SIZE]

    def _same_file(self, path: Path) -> bool:
        try:
            return os.stat(path).st_ino == self._inode
        except OSError:
            return False


def _map(path: Path) -> tuple[mmap.mmap | None, int]:
    """The file mapped, and its inode; made first when missing. No mapping when that fails, or
    when the file is not a whole token yet (another process is writing it: the next look maps
    it)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        catalog_generation_bump()
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            return None, 0
    except OSError:
        return None, 0
    try:
        status = os.fstat(fd)
        if status.st_size < TOKEN_SIZE:
            return None, 0
        return mmap.mmap(fd, TOKEN_SIZE, prot=mmap.PROT_READ), status.st_ino
    except (OSError, ValueError):
        return None, 0
    finally:
        os.close(fd)


_mapped = _Mapped()


def catalog_generation() -> tuple[bytes, int] | None:
    """The current generation (the token, and this process's own changes), or None when it
    cannot be read: keep nothing then."""
    token = _mapped.token()
    return None if token is None else (token, _local[0])
