"""Schedule the weekly verify of the store in django-celery-beat, where staff can edit it (its
interval, or its kwargs: {"repair": true} to repair what it finds)."""

from django.db import migrations

TASK_NAME = "verification: verify the blob store"


def schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_week, _ = IntervalSchedule.objects.get_or_create(every=7, period="days")
    PeriodicTask.objects.get_or_create(
        name=TASK_NAME,
        defaults={
            "task": "apps.verification.tasks.verify_store",
            "interval": every_week,
            "kwargs": '{"repair": false, "delete_orphans": false}',
            "description": "Re-hashes every stored blob against the catalog and lists missing, "
            "corrupt and orphaned blobs (Verification > Findings); resumes a verify that was "
            "stopped. Set repair to true to fetch bad files again from their upstream.",
        },
    )


def unschedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("verification", "0001_initial"),
        ("django_celery_beat", "0018_improve_crontab_helptext"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
