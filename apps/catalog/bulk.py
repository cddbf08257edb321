"""Multi-row SQL the ORM does not do in one statement."""

from collections.abc import Sequence

from django.db import connection
from django.db.models import Model


def insert_returning_ids(objs: Sequence[Model], *, unique: str) -> list[Model]:
    """INSERT ... ON CONFLICT (unique) DO NOTHING RETURNING id, in one statement: the objects
    inserted, their ids set; those whose ``unique`` value is taken are left out. Neither the
    ORM's create (a savepoint around it, to survive the conflict) nor bulk_create (no ids back
    when ignoring conflicts) does it in one. Needs ``can_return_rows_from_bulk_insert``."""
    if not objs:
        return []
    model = type(objs[0])
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    key = model._meta.get_field(unique)
    params, rows = [], []
    for obj in objs:
        params += [f.get_db_prep_save(f.pre_save(obj, add=True), connection) for f in fields]
        rows.append(f"({', '.join(['%s'] * len(fields))})")
    q = connection.ops.quote_name
    sql = (
        f"INSERT INTO {q(model._meta.db_table)} ({', '.join(q(f.column) for f in fields)}) "
        f"VALUES {', '.join(rows)} "
        f"ON CONFLICT ({q(key.column)}) DO NOTHING RETURNING {q(model._meta.pk.column)}, "
        f"{q(key.column)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        ids = dict((value, pk) for pk, value in cursor.fetchall())
    inserted = []
    for obj in objs:
        if (pk := ids.get(getattr(obj, key.attname))) is not None:
            obj.pk = pk
            obj._state.adding, obj._state.db = False, connection.alias
            inserted.append(obj)
    return inserted
