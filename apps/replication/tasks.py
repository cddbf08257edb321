"""Celery tasks: thin wrappers over the replication services."""

import logging

from celery.signals import worker_init, worker_process_init
from django.conf import settings
from django.db import DatabaseError, connection

from pypimirror.celery import app

from .batch_sync import projects_sync
from .clients import UpstreamUnusable
from .models import SyncRun, Upstream
from .runner import batch_requeue, dispatch
from .services import SyncInProgress, sync_run_start

logger = logging.getLogger(__name__)


@worker_init.connect
def prepare_the_worker(**_kwargs) -> None:
    """What a worker's first sync would otherwise wait for, done as it starts.

    The download path (zipfile, tarfile, packaging's metadata parser) is imported before the
    pool forks, so its processes share it; the sync command imports it only when it syncs
    in-process (see projects_sync). Each pool process then opens its database connection
    (connected here, after Celery's Django fixup, which closes the connection a process
    inherits).
    """
    from . import catalog_sync  # noqa: F401

    worker_process_init.connect(connect_the_database, weak=False)


def connect_the_database(**_kwargs) -> None:
    try:
        connection.ensure_connection()
    except DatabaseError as exc:  # the first task connects, or reports why it cannot
        logger.warning("pool process could not connect to the database yet: %s", exc)


@app.task(acks_late=True, ignore_result=True)
def sync_upstream(upstream_id: int, trigger: str = SyncRun.Trigger.SCHEDULE) -> int | None:
    """Plan a sync of the upstream and fan out one task per changed project."""
    upstream = Upstream.objects.get(pk=upstream_id)
    if not upstream.enabled:
        return None
    try:
        run, names = sync_run_start(upstream=upstream, trigger=trigger)
    except (UpstreamUnusable, SyncInProgress) as exc:
        logger.warning("sync of %s not started: %s", upstream, exc)
        return None
    dispatch(run, names)
    return run.pk


@app.task(bind=True, acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def sync_projects(self, run_id: int, names: list[str], redelivered: bool = False) -> None:
    """Sync a batch of projects, PYPIMIRROR_WORKER_SYNC_THREADS read upstream at once.
    Acknowledged once done, and given back to the broker when its worker process dies, so a
    killed worker's batch comes again: idempotent, as it skips what the run already counted
    (projects_sync). ``redelivered``: queued again by such a batch (batch_requeue), for
    projects another worker held."""
    delivered_again = bool((self.request.delivery_info or {}).get("redelivered"))
    projects_sync(
        run=SyncRun.objects.select_related("upstream").get(pk=run_id),
        names=names,
        redelivered=redelivered or delivered_again,
        held_elsewhere=batch_requeue,
        fetchers=settings.PYPIMIRROR_WORKER_SYNC_THREADS,
    )


@app.task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def sync_project(run_id: int, name: str) -> None:
    """Sync one project (kept for tasks queued before batches existed)."""
    projects_sync(run=SyncRun.objects.select_related("upstream").get(pk=run_id), names=[name])


@app.task(acks_late=True, ignore_result=True)
def reread_project_statuses(part: int | None = None) -> None:
    """Re-read the PEP 792 status of this hour's part of every enabled upstream's projects
    (status_reread.py): statuses the upstream changes without a serial reach the node within
    a day."""
    from .status_reread import reread_part_now, upstream_statuses_reread

    part = reread_part_now() if part is None else part
    for upstream in Upstream.objects.filter(enabled=True).exclude(protocol=""):
        upstream_statuses_reread(upstream=upstream, part=part)


@app.task(ignore_result=True)
def report_to_hub() -> bool:
    """Report this node's state to its hub (hub_report.py); nothing without
    PYPIMIRROR_HUB_URL and PYPIMIRROR_HUB_TOKEN."""
    from .hub_report import hub_report_send

    return hub_report_send()
