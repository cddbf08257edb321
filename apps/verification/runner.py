"""Driving a verify run: the catalog's files in id order, in batches checked by Celery workers
when any answer, else by a thread pool here; the cursor moves over the batches done in order,
so a run killed at any point resumes after the last batch saved."""

import logging
import os
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from django.db import connection, connections

from apps.catalog.models import Distribution

from .checking import BatchResult, batch_distributions, rows_check
from .models import VerifyBatch, VerifyRun
from .services import VerifyBusy, batch_done, batches_create, findings_record, run_cursor_advance

logger = logging.getLogger(__name__)

BATCH_FILES = 100
# A batch queued to workers and not done after this long, with no worker answering, is
# checked here instead.
STALL_SECONDS = 60.0


class BatchFailed(Exception):
    """A worker's task could not check its batch: the run fails (it resumes from its cursor)."""


LOCK_KEY = 0x7665726966  # "verif": one verify at a time on this database


def verify_lock() -> Callable[[], None]:
    """Hold the database's verify lock (a PostgreSQL advisory lock of this connection, so it
    goes with the process however it ends); the function that lets it go. VerifyBusy when
    another verify holds it."""
    if connection.vendor != "postgresql":
        return lambda: None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [LOCK_KEY])
        if not cursor.fetchone()[0]:
            raise VerifyBusy("another verify is running")

    def release() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [LOCK_KEY])

    return release


def _pending_ids(run: VerifyRun, after: int, limit: int) -> list[int]:
    rows = Distribution.objects.filter(pk__gt=after)
    if run.projects:
        rows = rows.filter(project__normalized_name__in=run.projects)
    return list(rows.order_by("pk").values_list("pk", flat=True)[:limit])


def files_to_check(run: VerifyRun) -> int:
    rows = Distribution.objects.all()
    if run.projects:
        rows = rows.filter(project__normalized_name__in=run.projects)
    return rows.count()


def batch_check(*, run: VerifyRun, first_id: int, last_id: int) -> BatchResult:
    """Check one batch and record its findings (again, harmlessly, for a batch done twice)."""
    rows = batch_distributions(first_id=first_id, last_id=last_id, projects=run.projects)
    result = rows_check(rows)
    findings_record(run=run, findings=result.findings)
    return result


def run_blobs_check(
    run: VerifyRun,
    *,
    concurrency: int | None = None,
    use_workers: bool = False,
    batch_files: int = BATCH_FILES,
    progress: Callable[[VerifyRun], None] = lambda run: None,
) -> None:
    """Check every file after the run's cursor, saving the cursor after each batch."""
    concurrency = concurrency or os.cpu_count() or 1
    if use_workers:
        _check_by_workers(run, batch_files=batch_files, concurrency=concurrency, progress=progress)
    else:
        _check_in_process(run, batch_files=batch_files, concurrency=concurrency, progress=progress)


def _check_in_process(
    run: VerifyRun, *, batch_files: int, concurrency: int, progress: Callable
) -> None:
    def check(first_id: int, last_id: int) -> BatchResult:
        try:
            return batch_check(run=run, first_id=first_id, last_id=last_id)
        finally:
            connections.close_all()  # this thread's own: it may not run another batch

    in_flight: deque[tuple[int, Future]] = deque()
    after = run.cursor
    with ThreadPoolExecutor(concurrency) as pool:
        while True:
            while len(in_flight) < concurrency * 2:
                ids = _pending_ids(run, after, batch_files)
                if not ids:
                    break
                after = ids[-1]
                in_flight.append((after, pool.submit(check, ids[0], after)))
            if not in_flight:
                return
            last_id, future = in_flight.popleft()
            result = future.result()
            run_cursor_advance(
                run=run, last_id=last_id, files=result.files, bytes_read=result.bytes
            )
            progress(run)


def _check_by_workers(
    run: VerifyRun, *, batch_files: int, concurrency: int, progress: Callable
) -> None:
    from apps.replication.runner import workers_available

    from .tasks import verify_batch

    after = run.cursor
    window = max(concurrency, 4) * 4
    while True:
        ranges = []
        for _ in range(window):
            ids = _pending_ids(run, after, batch_files)
            if not ids:
                break
            ranges.append((ids[0], ids[-1]))
            after = ids[-1]
        if not ranges:
            return
        batches = batches_create(run=run, ranges=ranges)
        for batch in batches:
            verify_batch.delay(batch.pk)
        _wait_for_batches(run, batches, progress=progress, workers_available=workers_available)


def _wait_for_batches(
    run: VerifyRun, batches: list[VerifyBatch], *, progress: Callable, workers_available
) -> None:
    """Move the cursor over the batches as they are done, in order; a batch no worker takes
    (they died) is checked here."""
    waiting = deque(batches)
    moved = time.monotonic()
    while waiting:
        head = waiting[0]
        done = VerifyBatch.objects.filter(pk=head.pk).values_list("done", "files", "bytes", "error")
        finished, files, bytes_read, error = done[0] if done else (False, 0, 0, "")
        if error:
            raise BatchFailed(
                f"a worker could not check files {head.first_id}-{head.last_id}: {error}"
            )
        if finished:
            run_cursor_advance(run=run, last_id=head.last_id, files=files, bytes_read=bytes_read)
            progress(run)
            waiting.popleft()
            moved = time.monotonic()
            continue
        if time.monotonic() - moved > STALL_SECONDS and not workers_available():
            logger.warning(
                "verify #%s: no worker checks batch %s; checking it here", run.pk, head.pk
            )
            result = batch_check(run=run, first_id=head.first_id, last_id=head.last_id)
            batch_done(batch=head, files=result.files, bytes_read=result.bytes)
            continue
        time.sleep(0.05)
