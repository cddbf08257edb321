"""Give every project its one source (invariant 6): a project an upstream synced belongs to
that upstream (the first configured, when several did); any other is local."""

from django.db import migrations
from django.db.models import Min


def assign(apps, schema_editor):
    Project = apps.get_model("catalog", "Project")
    ProjectSyncState = apps.get_model("replication", "ProjectSyncState")
    owners = (
        ProjectSyncState.objects.filter(serial_reached__gt=0)
        .values("normalized_name")
        .annotate(upstream=Min("upstream_id"))
        .values_list("upstream", "normalized_name")
    )
    by_upstream: dict[int, list[str]] = {}
    for upstream, name in owners.iterator():
        by_upstream.setdefault(upstream, []).append(name)
    for upstream, names in by_upstream.items():
        for start in range(0, len(names), 5000):
            Project.objects.filter(normalized_name__in=names[start : start + 5000]).update(
                source=f"upstream:{upstream}"
            )


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0003_project_source"),
        ("replication", "0004_sync_run_shadowed"),
    ]

    operations = [migrations.RunPython(assign, migrations.RunPython.noop)]
