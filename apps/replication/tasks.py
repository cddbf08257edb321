"""Celery tasks: thin wrappers over the replication services."""

import logging

from celery import shared_task

from .clients import UpstreamUnusable
from .models import SyncRun, Upstream
from .runner import dispatch
from .services import SyncInProgress, projects_sync, sync_run_start

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, ignore_result=True)
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


@shared_task(acks_late=True, ignore_result=True)
def sync_projects(run_id: int, names: list[str]) -> None:
    """Sync a batch of projects in turn (idempotent: a batch redelivered after a crash skips
    what is already done)."""
    projects_sync(run=SyncRun.objects.select_related("upstream").get(pk=run_id), names=names)


@shared_task(acks_late=True, ignore_result=True)
def sync_project(run_id: int, name: str) -> None:
    """Sync one project (kept for tasks queued before batches existed)."""
    sync_projects(run_id, [name])
