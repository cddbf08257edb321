"""Periodic syncs made before upstream URLs kept their secrets named the whole URL in their
description (shown in the admin): mask its credentials there (schedules.schedule_description)."""

import json

from django.db import migrations

from apps.replication.redaction import redact_url

TASK = "apps.replication.tasks.sync_upstream"


def mask(apps, schema_editor):
    Upstream = apps.get_model("replication", "Upstream")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    urls = dict(Upstream.objects.values_list("pk", "url"))
    for task in PeriodicTask.objects.filter(task=TASK):
        try:
            [pk] = json.loads(task.args)
        except (TypeError, ValueError):
            continue
        if pk in urls and task.description != (masked := f"Replicates {redact_url(urls[pk])}."):
            task.description = masked
            task.save(update_fields=["description"])


class Migration(migrations.Migration):
    dependencies = [
        ("replication", "0003_upstream_listing_etag"),
        ("django_celery_beat", "0018_improve_crontab_helptext"),
    ]

    operations = [migrations.RunPython(mask, migrations.RunPython.noop)]
