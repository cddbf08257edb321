"""Schedule the hourly re-read of PEP 792 project statuses in django-celery-beat, where staff
can edit it (status_reread.py)."""

from django.db import migrations

TASK_NAME = "replication: re-read project statuses (PEP 792)"


def schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_hour, _ = IntervalSchedule.objects.get_or_create(every=1, period="hours")
    PeriodicTask.objects.get_or_create(
        name=TASK_NAME,
        defaults={
            "task": "apps.replication.tasks.reread_project_statuses",
            "interval": every_hour,
            "description": "Reads again the status (active, archived, quarantined, deprecated) "
            "of a 24th of each upstream's projects, so that statuses the upstream changes "
            "without a serial (PyPI archives with none) arrive within a day. Pages a second: "
            "PYPIMIRROR_STATUS_REREAD_RATE.",
        },
    )


def unschedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("replication", "0007_upstream_secrets_masked"),
        ("django_celery_beat", "0018_improve_crontab_helptext"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
