"""Housekeeping of the node's data directory, run periodically by Celery beat (see tasks.py)."""

import logging
import os
import time
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings

from .blobstore import project_blob_prefix

logger = logging.getLogger(__name__)

# A write in progress touches its file continually; one untouched this long was abandoned.
TEMPORARY_FILE_MAX_AGE = timedelta(days=1)


def temporary_files_remove_stale(
    *, max_age: timedelta = TEMPORARY_FILE_MAX_AGE, now: float | None = None
) -> int:
    """Delete files left in ``TMP_DIR`` by writes that never finished (a killed worker, a crash).

    Only files (and symlinks, never their targets) whose modification time is older than
    ``max_age`` go; folders stay. Returns how many files were deleted.
    """
    cutoff = (time.time() if now is None else now) - max_age.total_seconds()
    removed = 0
    for directory, _subdirectories, filenames in os.walk(settings.TMP_DIR):
        for filename in filenames:
            path = os.path.join(directory, filename)
            try:
                if os.lstat(path).st_mtime < cutoff:
                    os.unlink(path)
                    removed += 1
            except FileNotFoundError:  # finished by its writer meanwhile
                continue
    if removed:
        logger.info("Removed %d stale temporary file(s) from %s", removed, settings.TMP_DIR)
    return removed


def temporary_blobs_remove_dead(*, projects: Iterable[str]) -> int:
    """Delete the temporary blobs of the ``projects``' downloads that died with their process
    on this host (a killed worker): the next sync of a project removes them, rather than
    ``temporary_files_remove_stale`` a day later. A file whose writer still runs is left. One
    look at the folder for them all (a sync's batch asks once). Returns how many were deleted."""
    prefixes = {project_blob_prefix(project): project for project in projects}
    if not prefixes:
        return 0
    length = len(next(iter(prefixes)))  # every prefix has the same length
    removed: dict[str, int] = {}
    try:
        entries = [e.name for e in os.scandir(settings.TMP_DIR) if e.name[:length] in prefixes]
    except FileNotFoundError:
        return 0
    for name in entries:
        pid = name[length:].partition("-")[0]
        if pid.isdigit() and process_is_gone(int(pid)):
            try:
                os.unlink(os.path.join(settings.TMP_DIR, name))
            except FileNotFoundError:
                continue
            project = prefixes[name[:length]]
            removed[project] = removed.get(project, 0) + 1
    for project, count in removed.items():
        logger.info("Removed %d temporary file(s) of dead downloads of %s", count, project)
    return sum(removed.values())


def process_is_gone(pid: int) -> bool:
    """True when process ``pid`` of this host no longer runs (or is a zombie, killed but not
    yet reaped by its parent: it holds and writes nothing)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rpartition(")")[2].split()[0] == "Z"
    except (OSError, IndexError):
        return False
