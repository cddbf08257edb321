"""Schedule the daily pruning of old probes and reports in django-celery-beat, where staff can
edit it; how long each is kept is set in the admin (Network settings)."""

from django.db import migrations

TASK_NAME = "network: prune old probes and reports"


def schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_day, _ = IntervalSchedule.objects.get_or_create(every=1, period="days")
    PeriodicTask.objects.get_or_create(
        name=TASK_NAME,
        defaults={
            "task": "apps.network.tasks.prune_probes_and_reports",
            "interval": every_day,
            "description": "Deletes probes and status reports older than the retention set "
            "under Mirror network > Network settings (each mirror's latest report is kept).",
        },
    )


def unschedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("network", "0002_hub_probe_location"),
        ("django_celery_beat", "0018_improve_crontab_helptext"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
