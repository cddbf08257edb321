"""Schedule the hourly probe round in django-celery-beat, where staff can edit it; the round
itself starts after a random delay (PYPIMIRROR_NETWORK_PROBE_JITTER) so the mirrors are not all
hit on the hour."""

from django.db import migrations

from pypimirror.migration_operations import periodic_task


class Migration(migrations.Migration):
    dependencies = [
        ("network", "0003_prune_schedule"),
        ("django_celery_beat", "0018_improve_crontab_helptext"),
    ]

    operations = [
        periodic_task(
            "network: probe the mirrors",
            "apps.network.tasks.probe_mirrors_scheduled",
            every=1,
            period="hours",
            description=(
                "Probes every mirror URL of the network (freshness, integrity), "
                "after a random delay of up to PYPIMIRROR_NETWORK_PROBE_JITTER seconds; disables a "
                "mirror after PYPIMIRROR_NETWORK_DISABLE_AFTER failed probes in a row."
            ),
        )
    ]
