"""Schedule this node's report to its hub every 10 minutes in django-celery-beat, where staff can
edit it (hub_report.py; the task does nothing until PYPIMIRROR_HUB_URL and PYPIMIRROR_HUB_TOKEN
are set)."""

from django.db import migrations

TASK_NAME = "replication: report this node's state to its hub"


def schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_10_minutes, _ = IntervalSchedule.objects.get_or_create(every=10, period="minutes")
    PeriodicTask.objects.get_or_create(
        name=TASK_NAME,
        defaults={
            "task": "apps.replication.tasks.report_to_hub",
            "interval": every_10_minutes,
            "description": "Posts this node's state (syncing / idle / failed / paused, its "
            "serials, software and free disk) to the hub of its network, besides the report "
            "after every sync run. Does nothing unless PYPIMIRROR_HUB_URL and "
            "PYPIMIRROR_HUB_TOKEN are set.",
        },
    )


def unschedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("replication", "0009_run_project"),
        ("django_celery_beat", "0018_improve_crontab_helptext"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
