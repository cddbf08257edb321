"""Schedule this node's report to its hub every 10 minutes in django-celery-beat, where staff can
edit it (hub_report.py; the task does nothing until PYPIMIRROR_HUB_URL and PYPIMIRROR_HUB_TOKEN
are set)."""

from django.db import migrations

from pypimirror.migration_operations import periodic_task


class Migration(migrations.Migration):
    dependencies = [
        ("replication", "0009_run_project"),
        ("django_celery_beat", "0018_improve_crontab_helptext"),
    ]

    operations = [
        periodic_task(
            "replication: report this node's state to its hub",
            "apps.replication.tasks.report_to_hub",
            every=10,
            period="minutes",
            description=(
                "Posts this node's state (syncing / idle / failed / paused, its "
                "serials, software and free disk) to the hub of its network, besides the report "
                "after every sync run. Does nothing unless PYPIMIRROR_HUB_URL and "
                "PYPIMIRROR_HUB_TOKEN are set."
            ),
        )
    ]
