"""Carrying out a planned run: on the Celery workers when any answer, else in this process."""

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from django.db import close_old_connections, connections

from .models import SyncRun
from .services import projects_sync

Progress = Callable[[SyncRun], None]


def workers_available(timeout: float = 1.0) -> bool:
    """True when at least one Celery worker answers a ping (brokers without broadcast: False)."""
    from pypimirror.celery import app

    try:
        # limit=1: the first worker to answer is enough; no need to wait out the timeout
        return bool(app.control.inspect(timeout=timeout, limit=1).ping())
    except Exception:  # no broker, or a transport without broadcast (the embedded SQLite one)
        return False


# A task carries this many projects at most: one message and one task start for many projects,
# yet enough tasks that every worker gets a share (at least ``_SPREAD`` batches per run).
BATCH_MAX = 50
_SPREAD = 16


def batches(names: list[str]) -> list[list[str]]:
    size = max(1, min(BATCH_MAX, len(names) // _SPREAD))
    return [names[i : i + size] for i in range(0, len(names), size)]


def dispatch(run: SyncRun, names: list[str]) -> None:
    """Queue the run's projects for the Celery workers, in batches."""
    from .tasks import sync_projects

    for batch in batches(names):
        sync_projects.delay(run.pk, batch)


def run_in_process(run: SyncRun, names: list[str], *, concurrency: int) -> None:
    """Sync the projects with a pool of threads, each with its own database connection."""

    def some(batch: list[str]) -> None:
        close_old_connections()
        try:
            projects_sync(run=run, names=batch)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        for _ in pool.map(some, batches(names)):
            pass


def wait_for_run(
    run: SyncRun,
    *,
    progress: Progress,
    stop: Callable[[], bool] = lambda: False,
    interval: float = 0.05,
) -> SyncRun:
    """Poll the run until every planned project has an outcome (or ``stop()``), with progress."""
    while True:
        run.refresh_from_db()
        progress(run)
        if run.state not in (SyncRun.State.PLANNING, SyncRun.State.RUNNING) or stop():
            run.refresh_from_db()
            return run
        time.sleep(interval)
