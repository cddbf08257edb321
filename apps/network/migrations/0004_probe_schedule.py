"""Schedule the hourly probe round in django-celery-beat, where staff can edit it; the round
itself starts after a random delay (PYPIMIRROR_NETWORK_PROBE_JITTER) so the mirrors are not all
hit on the hour."""

from django.db import migrations

TASK_NAME = "network: probe the mirrors"


def schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_hour, _ = IntervalSchedule.objects.get_or_create(every=1, period="hours")
    PeriodicTask.objects.get_or_create(
        name=TASK_NAME,
        defaults={
            "task": "apps.network.tasks.probe_mirrors_scheduled",
            "interval": every_hour,
            "description": "Probes every mirror URL of the network (freshness, integrity), "
            "after a random delay of up to PYPIMIRROR_NETWORK_PROBE_JITTER seconds; disables a "
            "mirror after PYPIMIRROR_NETWORK_DISABLE_AFTER failed probes in a row.",
        },
    )


def unschedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("network", "0003_prune_schedule"),
        ("django_celery_beat", "0018_improve_crontab_helptext"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
