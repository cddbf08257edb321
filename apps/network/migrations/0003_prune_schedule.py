"""Schedule the daily pruning of old probes and reports in django-celery-beat, where staff can
edit it; how long each is kept is set in the admin (Network settings)."""

from django.db import migrations

from pypimirror.migration_operations import periodic_task


class Migration(migrations.Migration):
    dependencies = [
        ("network", "0002_hub_probe_location"),
        ("django_celery_beat", "0018_improve_crontab_helptext"),
    ]

    operations = [
        periodic_task(
            "network: prune old probes and reports",
            "apps.network.tasks.prune_probes_and_reports",
            every=1,
            period="days",
            description=(
                "Deletes probes and status reports older than the retention set "
                "under Mirror network > Network settings (each mirror's latest report is kept)."
            ),
        )
    ]
