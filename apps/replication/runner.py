"""Carrying out a planned run: on the Celery workers when any answer, else in this process;
and following it until it is done, or until no progress is possible (``StallWatch``)."""

import logging
import time
from collections.abc import Callable

from django.db import close_old_connections, connections
from django.utils import timezone

from .batch_sync import projects_sync
from .fetch_helpers import FetchHelpers, helpers_wanted
from .leases import LEASE
from .models import ProjectSyncState, SyncRun
from .run_projects import run_lease_mark

logger = logging.getLogger(__name__)

Progress = Callable[[SyncRun], None]
BATCH_TASKS = ("apps.replication.tasks.sync_projects", "apps.replication.tasks.sync_project")


def workers_available(timeout: float = 1.0) -> bool:
    """True when at least one Celery worker answers a ping. False at once on a broker without
    broadcast (the embedded SQLite one): no worker could hear the ping, and waiting out the
    timeout cost every embedded `sync` 1.7 s."""
    from django.conf import settings

    from pypimirror.broker import broker_broadcasts

    if not broker_broadcasts(settings.CELERY_BROKER_URL):
        return False
    from pypimirror.celery import app

    try:
        # limit=1: the first worker to answer is enough; no need to wait out the timeout
        return bool(app.control.inspect(timeout=timeout, limit=1).ping())
    except Exception:  # no broker, or a transport without broadcast (the embedded SQLite one)
        return False


# A task carries this many projects at most: one message and one task start for many projects,
# yet enough tasks that every worker gets a share (at least ``BATCH_SPREAD`` batches per run).
BATCH_MAX = 50
BATCH_SPREAD = 8


def batches(names: list[str]) -> list[list[str]]:
    size = max(1, min(BATCH_MAX, len(names) // BATCH_SPREAD))
    return [names[i : i + size] for i in range(0, len(names), size)]


def dispatch(run: SyncRun, names: list[str]) -> None:
    """Queue the run's projects for the Celery workers, in batches."""
    from .tasks import sync_projects

    for batch in batches(names):
        sync_projects.delay(run.pk, batch)


def batch_requeue(run: SyncRun, states: list[ProjectSyncState]) -> None:
    """Queue again, for when their leases lapse, the projects a batch delivered again found
    held by another worker: a live one renews its lease and finishes them (the run counts
    each once), a dead one on another host lets its lease lapse within LEASE."""
    from .tasks import sync_projects

    now = timezone.now()
    until = max((s.lease_until for s in states if s.lease_until), default=now)
    wait = min(max((until - now).total_seconds(), 0) + 1, LEASE.total_seconds() + 1)
    sync_projects.apply_async(
        (run.pk, [s.name for s in states]), {"redelivered": True}, countdown=wait
    )


# In-process, this many projects make a batch (a batch's reading drains at its end; its
# leases are held together).
IN_PROCESS_BATCH = 500


def run_in_process(run: SyncRun, names: list[str], *, concurrency: int) -> None:
    """Sync the projects in batches, one after another in this thread, which publishes what
    ``concurrency`` threads read upstream at once (fetch_ahead.py): one writer (SQLite takes
    one write at a time; eight threads each publishing their own batch waited on its lock,
    and on each other for the GIL) and 15-20 % less time than those eight."""
    close_old_connections()
    processes = helpers_wanted(len(names))
    helpers = FetchHelpers(processes) if processes else None
    try:
        for start in range(0, len(names), IN_PROCESS_BATCH):
            batch = names[start : start + IN_PROCESS_BATCH]
            projects_sync(run=run, names=batch, fetchers=max(1, concurrency), helpers=helpers)
    finally:
        if helpers is not None:
            helpers.close()
        connections.close_all()


def wait_for_run(
    run: SyncRun,
    *,
    progress: Progress,
    stop: Callable[[], bool] = lambda: False,
    interval: float = 0.05,
    pause: Callable[[float], object] = time.sleep,
) -> SyncRun:
    """Poll the run until every planned project has an outcome (or ``stop()``), with progress;
    ``pause(interval)`` between looks (one that returns early, a thread's ``join``, ends the
    wait as soon as the work does)."""
    while True:
        run.refresh_from_db()
        progress(run)
        if run.state not in (SyncRun.State.PLANNING, SyncRun.State.RUNNING) or stop():
            run.refresh_from_db()
            return run
        pause(interval)


def run_tasks_live(run_id: int, *, timeout: float = 2.0) -> bool:
    """Whether the run's work may still come from the Celery workers: a live worker has one of
    its tasks running, reserved or scheduled, or a live worker may yet take messages waiting in
    the queue. A dead worker's unacknowledged messages do not count: they come back only after
    the broker's visibility timeout (CELERY_BROKER_VISIBILITY_TIMEOUT), to a run long over.
    True, to be safe, when the workers cannot be asked."""
    from pypimirror.celery import app

    try:
        inspect = app.control.inspect(timeout=timeout)
        replies = [inspect.active(), inspect.reserved(), inspect.scheduled()]
    except Exception as exc:
        logger.warning("cannot ask the workers what they hold: %s", exc)
        return True
    workers = set()
    for reply in replies:
        for worker, tasks in (reply or {}).items():
            workers.add(worker)
            for task in tasks or ():
                request = task.get("request", task)  # scheduled() wraps it
                args = request.get("args") or ()
                if request.get("name") in BATCH_TASKS and args and args[0] == run_id:
                    return True
    return bool(workers) and _queued_messages() > 0


def _queued_messages() -> int:
    """Messages waiting in the default queue (of any run: one of this run's may be among them)."""
    from pypimirror.celery import app

    try:
        with app.connection_for_read() as conn:
            queue = app.conf.task_default_queue
            return conn.default_channel.queue_declare(queue=queue, passive=True).message_count
    except Exception:  # no such queue: nothing waits in it
        return 0


class StallWatch:
    """A ``stop`` for ``wait_for_run``: true once the run can make no more progress.

    That is: for ``timeout`` seconds no project of it finished and no lease of its pending
    projects was taken or renewed (a live worker renews its leases every 30 s, a download
    included), and then no live worker has a task of the run (``run_tasks_live``). Checked at
    most every ``every`` seconds.
    """

    def __init__(
        self,
        run: SyncRun,
        *,
        timeout: float,
        every: float = 1.0,
        live: Callable[[int], bool] = run_tasks_live,
    ) -> None:
        self.run, self.timeout, self.every, self.live = run, timeout, every, live
        self._mark: tuple | None = None
        self._since = self._checked = time.monotonic()

    def __call__(self) -> bool:
        now = time.monotonic()
        if now - self._checked < self.every:
            return False
        self._checked = now
        run = self.run
        mark = (run.projects_finished, run.updated, run_lease_mark(run=run))
        if mark != self._mark:
            self._mark, self._since = mark, now
            return False
        if now - self._since < self.timeout:
            return False
        if self.live(run.pk):
            self._since = time.monotonic()  # a live worker has it: another period
            return False
        return True
