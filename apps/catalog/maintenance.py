"""Housekeeping of the node's data directory, run periodically by Celery beat (see tasks.py)."""

import logging
import os
import time
from datetime import timedelta

from django.conf import settings

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
