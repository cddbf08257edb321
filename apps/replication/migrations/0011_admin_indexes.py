"""Indexes for the admin's sync states search (a name's beginning, every upstream) and for the
runs: the admin's list and date filter, and each upstream's last run and last successful run,
which /metrics, the admin's home page and the API look up (selectors.upstream_status_list).

Built with CREATE INDEX CONCURRENTLY on PostgreSQL, hence ``atomic = False``. At PyPI's size
(700,000 sync states) they took 0.4 s; a failed concurrent build leaves an INVALID index:
drop it and migrate again.
"""

from django.db import migrations, models

from pypimirror.migration_operations import AddIndexConcurrently


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("replication", "0010_hub_report_schedule"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="projectsyncstate",
            index=models.Index(
                fields=["normalized_name"],
                name="sync_state_name_pattern",
                opclasses=["varchar_pattern_ops"],
            ),
        ),
        AddIndexConcurrently(
            model_name="syncrun",
            index=models.Index(fields=["started"], name="sync_run_started"),
        ),
        AddIndexConcurrently(
            model_name="syncrun",
            index=models.Index(fields=["upstream", "started"], name="sync_run_upstream_started"),
        ),
        AddIndexConcurrently(
            model_name="syncrun",
            index=models.Index(
                fields=["upstream", "state", "finished"], name="sync_run_upstream_finished"
            ),
        ),
    ]
