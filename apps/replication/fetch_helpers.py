"""Helper processes that read projects upstream for an in-process run.

One Python process syncs on one CPU at a time (the GIL): its reading threads hide the
upstream's latency, not the CPU each file costs (the request, the checks, the blob placed,
the wheel's metadata read). Without Celery workers (the embedded default, ``sync
--in-process``), the command hands some projects to helper processes, which read them
upstream and fetch their files into the store exactly as its threads do, and send back what
is left to publish. Only the command writes to the database: SQLite takes one writer at a
time, and two processes publishing each their own batches spent the time gained waiting on
its lock.

A helper is spawned, not forked (the command has threads and open connections), and sets up
Django itself: some 0.2 s of another CPU while the command is already reading. A helper that
dies (killed, out of memory) costs nothing but time: what it was reading is read again here.
"""

import gc
import multiprocessing
import weakref
from concurrent.futures import Future, ProcessPoolExecutor
from typing import TYPE_CHECKING

from django.conf import settings

if TYPE_CHECKING:  # a helper imports this module before Django is set up
    from apps.catalog.selectors import TakedownBlocks

    from .models import ProjectSyncState, Upstream
    from .rules import Rules

# Fewer projects than this in a run: not worth a helper's start.
MIN_PROJECTS = 50


def helpers_wanted(projects: int) -> int:
    """How many helpers a run of ``projects`` gets (PYPIMIRROR_SYNC_HELPERS)."""
    return settings.PYPIMIRROR_SYNC_HELPERS if projects >= MIN_PROJECTS else 0


# What a helper reads from the settings, taken from the command's own (which may differ from
# what the environment gives: a test's, say): where blobs go, and the upstream requests.
_SETTINGS_PASSED = (
    "STORAGES",
    "TMP_DIR",
    "FILE_UPLOAD_PERMISSIONS",
    "FILE_UPLOAD_DIRECTORY_PERMISSIONS",
)


def _settings_passed() -> dict:
    names = [*_SETTINGS_PASSED, *(n for n in dir(settings) if n.startswith("PYPIMIRROR_"))]
    return {name: getattr(settings, name) for name in names if hasattr(settings, name)}


def _helper_start(passed: dict) -> None:
    import django

    gc.disable()  # as manage.py: start-up's objects live until the process ends
    django.setup()
    gc.freeze()
    gc.enable()
    for name, value in passed.items():
        setattr(settings, name, value)


def _helper_fetch(upstream, state, held, rules, blocks):
    from .batch_sync import project_fetch

    return project_fetch(upstream, state, held, rules=rules, blocks=blocks)


class FetchHelpers:
    """``processes`` helpers, started at the first ``submit``; ``close`` stops them once they
    are done, ``terminate`` at once."""

    def __init__(self, processes: int) -> None:
        self.processes = processes
        self._pool = ProcessPoolExecutor(
            processes,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_helper_start,
            initargs=(_settings_passed(),),
        )
        _live.add(self)

    @property
    def slots(self) -> int:
        """Projects handed to the helpers at once: two each, so that none waits for the next."""
        return 2 * self.processes

    def submit(
        self,
        *,
        upstream: "Upstream",
        state: "ProjectSyncState",
        held: dict[str, str],
        rules: "Rules",
        blocks: "TakedownBlocks",
    ) -> Future:
        """A helper reads the project (``batch_sync.project_fetch``); the future's result is
        what it returns. The future fails with BrokenProcessPool when a helper died."""
        return self._pool.submit(_helper_fetch, upstream, state, held, rules, blocks)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        _live.discard(self)

    def terminate(self) -> None:
        """Stop the helpers now, whatever they are reading (the command was interrupted: at
        its exit, the pool would wait for every download under way, however large). What
        they leave is temporary files, which their projects' next sync removes."""
        # ProcessPoolExecutor has no public way to stop its processes before Python 3.14.
        processes = getattr(self._pool, "_processes", None) or {}
        for process in list(processes.values()):
            process.kill()  # at once: no handler nor blocked signal can delay it
        self._pool.shutdown(wait=False, cancel_futures=True)
        _live.discard(self)


_live: "weakref.WeakSet[FetchHelpers]" = weakref.WeakSet()


def helpers_terminate() -> None:
    """Stop every helper of this process at once (``FetchHelpers.terminate``)."""
    for helpers in list(_live):
        helpers.terminate()
