"""Celery tasks: thin wrappers over the replication services."""

import logging

from celery import shared_task

from .clients import UpstreamUnusable
from .models import SyncRun, Upstream
from .services import SyncInProgress, project_sync, sync_run_start

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
    for name in names:
        sync_project.delay(run.pk, name)
    return run.pk


@shared_task(acks_late=True, ignore_result=True)
def sync_project(run_id: int, name: str) -> None:
    """Sync one project (idempotent; a redelivered task after a crash just converges)."""
    project_sync(run=SyncRun.objects.select_related("upstream").get(pk=run_id), name=name)
