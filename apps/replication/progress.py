"""Counting project outcomes on a sync run: many workers at once, none waiting for another.

Outcomes are counted in one UPDATE that adds to the run's counters and, when they bring them
to the plan, finishes the run, all in the same statement; its expressions read the row as it
was before the update, so the projects being counted are added by hand. The statement that
finished the run says so (RETURNING), and ``sync_run_finished`` is sent once. Written as SQL: the
ORM's nested Case/F expressions cost ten times the statement itself.
"""

from collections.abc import Sequence

from django.db import connection, transaction
from django.utils import timezone

from .models import SyncRun
from .signals import sync_run_finished_announce


def run_count_outcomes(
    *,
    run_id: int,
    done: int = 0,
    failed: int = 0,
    skipped: int = 0,
    shadowed: int = 0,
    files: int = 0,
    size: int = 0,
    errors: Sequence[dict] = (),
    owners: Sequence[dict] = (),
) -> None:
    """Count the outcomes of several projects on the run at once (``errors``: their
    ``{project, error}`` entries; ``owners``: the ``{project, owner}`` of those shadowed)."""
    counts = (done, failed, skipped, shadowed, files, size)
    if errors or owners:  # lists in JSON columns: appended under the row's lock
        with transaction.atomic():
            run = SyncRun.objects.select_for_update().only("errors", "shadowed").get(pk=run_id)
            SyncRun.objects.filter(pk=run_id).update(
                errors=[*run.errors, *errors], shadowed=[*run.shadowed, *owners]
            )
            _count(run_id, *counts)
    elif done or failed or skipped or shadowed:
        _count(run_id, *counts)


def _count(
    run_id: int, done: int, failed: int, skipped: int, shadowed: int, files: int, size: int
) -> None:
    q = connection.ops.quote_name
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    counted = done + failed + skipped + shadowed
    is_last = (
        f"{q('state')} = %s AND {q('projects_planned')} <= {q('projects_done')} + "
        f"{q('projects_failed')} + {q('projects_skipped')} + {q('projects_shadowed')} + %s"
    )
    sql = (
        f"UPDATE {q(SyncRun._meta.db_table)} SET "
        f"{q('projects_done')} = {q('projects_done')} + %s, "
        f"{q('projects_failed')} = {q('projects_failed')} + %s, "
        f"{q('projects_skipped')} = {q('projects_skipped')} + %s, "
        f"{q('projects_shadowed')} = {q('projects_shadowed')} + %s, "
        f"{q('files_fetched')} = {q('files_fetched')} + %s, "
        f"{q('bytes_fetched')} = {q('bytes_fetched')} + %s, "
        f"{q('updated')} = %s, "
        f"{q('state')} = CASE WHEN {is_last} THEN "
        f"(CASE WHEN {q('projects_failed')} + %s > 0 THEN %s ELSE %s END) "
        f"ELSE {q('state')} END, "
        f"{q('finished')} = CASE WHEN {is_last} THEN %s ELSE {q('finished')} END "
        f"WHERE {q('id')} = %s "
        # True when this statement finished the run: it alone set ``finished`` to its ``now``.
        f"RETURNING {q('finished')} = %s"
    )
    running = SyncRun.State.RUNNING.value
    params = [
        done,
        failed,
        skipped,
        shadowed,
        files,
        size,
        now,
        running,
        counted,
        failed,
        SyncRun.State.PARTIAL.value,
        SyncRun.State.SUCCEEDED.value,
        running,
        counted,
        now,
        run_id,
        now,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is not None and row[0]:
        sync_run_finished_announce(run_id=run_id)
