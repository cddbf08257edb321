"""Schedule the weekly verify of the store in django-celery-beat, where staff can edit it (its
interval, or its kwargs: {"repair": true} to repair what it finds)."""

from django.db import migrations

from pypimirror.migration_operations import periodic_task


class Migration(migrations.Migration):
    dependencies = [
        ("verification", "0001_initial"),
        ("django_celery_beat", "0018_improve_crontab_helptext"),
    ]

    operations = [
        periodic_task(
            "verification: verify the blob store",
            "apps.verification.tasks.verify_store",
            every=7,
            period="days",
            kwargs='{"repair": false, "delete_orphans": false}',
            description=(
                "Re-hashes every stored blob against the catalog and lists missing, "
                "corrupt and orphaned blobs (Verification > Findings); resumes a verify that was "
                "stopped. Set repair to true to fetch bad files again from their upstream."
            ),
        )
    ]
