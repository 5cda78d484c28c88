"""Bulk inserts for imports: PostgreSQL COPY, ``bulk_create`` elsewhere.

``bulk_create`` spends most of a 100,000-row import building one huge parameterised INSERT per
batch (bench/import.py measured ~170 µs per row). COPY streams the same values, prepared by the
same ``Field.get_db_prep_save`` (so encrypted fields are encrypted and JSON is JSON), at a
fraction of the cost. Primary keys are drawn from the table's sequence first, because COPY
cannot return them and callers need them for foreign keys.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import DEFAULT_DB_ALIAS, connections, models


def bulk_insert(model: type[models.Model], objs: Sequence[models.Model]) -> None:
    """Insert ``objs`` (unsaved, same model) and set their primary keys. No signals, no
    ``save()``, exactly like ``bulk_create``."""
    if not objs:
        return
    # The real connection, not the ``django.db.connection`` proxy: one attribute lookup per
    # field per row through the proxy cost more than the COPY itself.
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(objs, batch_size=2000)
        return
    meta = model._meta
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, meta.pk.column, len(objs)],
        )
        ids = [row[0] for row in cursor.fetchall()]
    for obj, pk in zip(objs, ids, strict=True):
        obj.pk = pk
    # A generated column is the database's to fill; COPY may not name it.
    fields = [f for f in meta.concrete_fields if not f.generated]
    columns = ", ".join(quote(f.column) for f in fields)
    with connection.cursor() as cursor:
        raw = cursor.cursor  # the psycopg cursor under Django's wrapper
        with raw.copy(f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN") as copy:
            for obj in objs:
                copy.write_row(
                    [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]
                )
    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias
