"""Migration operations that work on PostgreSQL and SQLite alike."""

from django.contrib.postgres import operations as postgres
from django.db.migrations.operations import AddIndex


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
