"""Each upstream's periodic sync, kept in django-celery-beat so staff can edit it in the admin."""

import json

from django.conf import settings
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from .models import Upstream
from .redaction import redact_url

TASK = "apps.replication.tasks.sync_upstream"


def schedule_name(upstream: Upstream) -> str:
    return f"Sync upstream {upstream.name} (#{upstream.pk})"


def schedule_description(upstream: Upstream) -> str:
    return f"Replicates {redact_url(upstream.url)}."


def upstream_schedule_ensure(*, upstream: Upstream) -> PeriodicTask:
    """Create the upstream's periodic sync if missing; keep its enabled flag and description
    in step.

    An interval staff changed in the admin is left as they set it.
    """
    task = PeriodicTask.objects.filter(task=TASK, args=json.dumps([upstream.pk])).first()
    if task is None:
        interval, _ = IntervalSchedule.objects.get_or_create(
            every=settings.PYPIMIRROR_SYNC_INTERVAL_MINUTES, period=IntervalSchedule.MINUTES
        )
        return PeriodicTask.objects.create(
            name=schedule_name(upstream),
            task=TASK,
            interval=interval,
            args=json.dumps([upstream.pk]),
            enabled=upstream.enabled,
            description=schedule_description(upstream),
        )
    changed = {
        "enabled": upstream.enabled,
        "description": schedule_description(upstream),  # the URL may have changed
    }
    changed = {k: v for k, v in changed.items() if getattr(task, k) != v}
    if changed:
        for field, value in changed.items():
            setattr(task, field, value)
        task.save(update_fields=list(changed))
    return task


def upstream_schedule_delete(*, upstream: Upstream) -> None:
    PeriodicTask.objects.filter(task=TASK, args=json.dumps([upstream.pk])).delete()
