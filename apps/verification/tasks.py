"""Celery tasks: thin wrappers over the verification services."""

from pypimirror.celery import app

from .models import VerifyBatch, VerifyRun


@app.task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def verify_batch(batch_id: int) -> None:
    """Check one batch of a verify run's files (runner.py waits for it to be done)."""
    from .runner import batch_check
    from .services import batch_done, batch_failed

    batch = VerifyBatch.objects.select_related("run").filter(pk=batch_id).first()
    if batch is None or batch.done:  # the run was picked up again, or this came twice
        return
    try:
        result = batch_check(run=batch.run, first_id=batch.first_id, last_id=batch.last_id)
    except Exception as exc:
        batch_failed(batch=batch, error=f"{type(exc).__name__}: {exc}")  # the run fails
        raise
    batch_done(batch=batch, files=result.files, bytes_read=result.bytes)


@app.task(acks_late=True, ignore_result=True)
def verify_store(repair: bool = False, delete_orphans: bool = False) -> int | None:
    """The periodic verify (weekly by default): the whole store, checked in this worker with
    a thread pool (waiting here for batches queued to the workers could hold the only slot)."""
    from .verify import VerifyRefused, verify

    try:
        outcome = verify(
            projects=[],
            repair=repair,
            delete_orphans=delete_orphans,
            trigger=VerifyRun.Trigger.SCHEDULE,
            use_workers=False,
        )
    except VerifyRefused:
        return None
    return outcome.run.pk
