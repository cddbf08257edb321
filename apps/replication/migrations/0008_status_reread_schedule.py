"""Schedule the hourly re-read of PEP 792 project statuses in django-celery-beat, where staff
can edit it (status_reread.py)."""

from django.db import migrations

from pypimirror.migration_operations import periodic_task


class Migration(migrations.Migration):
    dependencies = [
        ("replication", "0007_upstream_secrets_masked"),
        ("django_celery_beat", "0018_improve_crontab_helptext"),
    ]

    operations = [
        periodic_task(
            "replication: re-read project statuses (PEP 792)",
            "apps.replication.tasks.reread_project_statuses",
            every=1,
            period="hours",
            description=(
                "Reads again the status (active, archived, quarantined, deprecated) "
                "of a 24th of each upstream's projects, so that statuses the upstream changes "
                "without a serial (PyPI archives with none) arrive within a day. Pages a second: "
                "PYPIMIRROR_STATUS_REREAD_RATE."
            ),
        )
    ]
