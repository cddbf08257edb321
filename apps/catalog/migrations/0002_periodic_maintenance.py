"""Schedule the catalog's housekeeping in django-celery-beat, where staff can edit it."""

from django.db import migrations

from pypimirror.migration_operations import periodic_task


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0001_initial"),
        ("django_celery_beat", "0018_improve_crontab_helptext"),
    ]

    operations = [
        periodic_task(
            "catalog: remove stale temporary files",
            "apps.catalog.tasks.remove_stale_temporary_files",
            every=1,
            period="hours",
            description=(
                "Deletes files older than a day in the temporary folder "
                "(left by downloads or imports that never finished)."
            ),
        )
    ]
