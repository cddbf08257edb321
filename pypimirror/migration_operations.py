"""Migration operations that work on PostgreSQL and SQLite alike."""

from django.contrib.postgres import operations as postgres
from django.db.migrations.operations import AddIndex, RunPython


class AddIndexConcurrently(postgres.AddIndexConcurrently):
    """Django's ``AddIndexConcurrently`` on PostgreSQL (``CREATE INDEX CONCURRENTLY``: the table
    stays writable while the index is built, so syncs and imports go on; the migration must
    set ``atomic = False``), a plain ``CREATE INDEX`` on SQLite, which has no such thing.

    A concurrent build that fails (or is interrupted) leaves an INVALID index behind: drop it
    (``DROP INDEX CONCURRENTLY name``) and migrate again."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)
        else:
            AddIndex.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
        else:
            AddIndex.database_backwards(self, app_label, schema_editor, from_state, to_state)


def periodic_task(
    name: str, task: str, *, every: int, period: str, description: str, kwargs: str = "{}"
) -> RunPython:
    """A data migration that schedules ``task`` in django-celery-beat every ``every``
    ``period`` (``"minutes"``, ``"hours"``, ``"days"``), where staff can then edit or disable
    it: an existing task of that name is left as staff made it. Reversed, it is deleted."""

    def schedule(apps, schema_editor) -> None:
        IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
        PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
        interval, _ = IntervalSchedule.objects.get_or_create(every=every, period=period)
        PeriodicTask.objects.get_or_create(
            name=name,
            defaults={
                "task": task,
                "interval": interval,
                "kwargs": kwargs,
                "description": description,
            },
        )

    def unschedule(apps, schema_editor) -> None:
        apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=name).delete()

    return RunPython(schedule, unschedule)
