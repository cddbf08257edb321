"""Indexes for the admin's filters on files and releases (apps/catalog/admin.py): a rare file
type, an upload date range, the yanked files and releases are found without reading the table.

Built with CREATE INDEX CONCURRENTLY on PostgreSQL (syncs and imports go on meanwhile), hence
``atomic = False``. At PyPI's size (3.5 M files, 1.4 M releases: benchmarks/scale.py's catalog,
2-CPU machine) the four took 6 s in all. A failed concurrent build leaves an INVALID index:
drop it and migrate again.
"""

from django.db import migrations, models

from pypimirror.migration_operations import AddIndexConcurrently


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("catalog", "0004_status_provenance"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="distribution",
            index=models.Index(fields=["packagetype"], name="distribution_packagetype"),
        ),
        AddIndexConcurrently(
            model_name="distribution",
            index=models.Index(fields=["upload_time"], name="distribution_upload_time"),
        ),
        AddIndexConcurrently(
            model_name="distribution",
            index=models.Index(
                condition=models.Q(("yanked", True)), fields=["id"], name="distribution_yanked"
            ),
        ),
        AddIndexConcurrently(
            model_name="release",
            index=models.Index(
                condition=models.Q(("yanked", True)), fields=["id"], name="release_yanked"
            ),
        ),
    ]
