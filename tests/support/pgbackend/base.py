"""PostgreSQL for the tests (pypimirror/settings/test.py): Django's own backend, except that a
flush empties the tables with DELETE rather than TRUNCATE.

pytest-django flushes the database after every test that commits (``transaction=True``, some
220 of them). TRUNCATE of all ~40 tables takes ~0.3 s, as PostgreSQL makes new files for every
table and index; a DELETE of each, ~0.02 s for the few rows a test leaves: a minute of the suite.
Django's foreign keys are DEFERRABLE INITIALLY DEFERRED, so the tables are emptied in any order
in the flush's one transaction. A flush that resets sequences or cascades to tables it does not
name is left to TRUNCATE.
"""

from django.db.backends.postgresql import base, operations


class DatabaseOperations(operations.DatabaseOperations):
    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        if not tables or reset_sequences or allow_cascade:
            return super().sql_flush(
                style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
            )
        return [
            "SET CONSTRAINTS ALL DEFERRED;",
            *(
                f"{style.SQL_KEYWORD('DELETE')} {style.SQL_KEYWORD('FROM')} "
                f"{style.SQL_FIELD(self.quote_name(table))};"
                for table in tables
            ),
        ]


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations
