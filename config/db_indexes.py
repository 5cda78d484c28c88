"""Indexes that one engine has and the other lacks, and index migrations safe on a live table.

The embedded default runs on SQLite and production on PostgreSQL from the same models and
migrations (DESIGN §6), so a PostgreSQL-only index must be a no-op on SQLite: not only when its
migration runs, but also whenever SQLite rebuilds the table (``_remake_table`` re-creates every
index in ``Meta.indexes``, so a later AlterField would otherwise fail on ``USING gin``).
"""

from __future__ import annotations

from typing import Any

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.operations import (
    AddIndexConcurrently,
    RemoveIndexConcurrently,
    TrigramExtension,
)
from django.db.migrations import AddIndex, RemoveIndex


class PostgresGinIndex(GinIndex):
    """A GIN index on PostgreSQL (e.g. ``gin_trgm_ops`` for ``icontains``); nothing elsewhere."""

    def create_sql(self, model: Any, schema_editor: Any, using: str = "", **kwargs: Any) -> Any:
        if schema_editor.connection.vendor != "postgresql":
            return f"-- {self.name}: PostgreSQL only"
        return super().create_sql(model, schema_editor, using=using, **kwargs)

    def remove_sql(self, model: Any, schema_editor: Any, **kwargs: Any) -> Any:
        if schema_editor.connection.vendor != "postgresql":
            return f"-- {self.name}: PostgreSQL only"
        return super().remove_sql(model, schema_editor, **kwargs)


def _index_valid(schema_editor: Any, name: str) -> bool | None:
    """True or False for an index of that name (``indisvalid``), None when there is none."""
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE c.relname = %s AND pg_table_is_visible(c.oid)",
            [name],
        )
        row = cursor.fetchone()
    return None if row is None else bool(row[0])


class TrigramExtensionKept(TrigramExtension):
    """``CREATE EXTENSION pg_trgm`` on PostgreSQL, nothing elsewhere. Unapplied, it leaves the
    extension installed: other objects may use it by then, and Django's own operation would
    query ``pg_extension`` on SQLite there."""

    def database_backwards(self, app_label: str, schema_editor: Any, from_state, to_state) -> None:
        pass


class AddIndexOnline(AddIndexConcurrently):
    """``CREATE INDEX CONCURRENTLY`` on PostgreSQL: a table of a million seals keeps taking
    writes while the index builds (a plain CREATE INDEX blocks them for the whole build). A
    plain ``AddIndex`` elsewhere. The migration must say ``atomic = False``, so a run that
    stopped half-way is run again: an index it completed is kept, an INVALID one (a build that
    failed) is dropped and built again."""

    def describe(self) -> str:
        return AddIndex.describe(self) + " (concurrently on PostgreSQL)"

    def database_forwards(self, app_label: str, schema_editor: Any, from_state, to_state) -> None:
        if schema_editor.connection.vendor != "postgresql":
            AddIndex.database_forwards(self, app_label, schema_editor, from_state, to_state)
            return
        valid = _index_valid(schema_editor, self.index.name)
        if valid:
            return
        if valid is False:
            schema_editor.execute(
                f"DROP INDEX CONCURRENTLY {schema_editor.quote_name(self.index.name)}"
            )
        super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label: str, schema_editor: Any, from_state, to_state) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
        else:
            AddIndex.database_backwards(self, app_label, schema_editor, from_state, to_state)


class RemoveIndexOnline(RemoveIndexConcurrently):
    """``DROP INDEX CONCURRENTLY`` on PostgreSQL, a plain ``RemoveIndex`` elsewhere."""

    def describe(self) -> str:
        return RemoveIndex.describe(self) + " (concurrently on PostgreSQL)"

    def database_forwards(self, app_label: str, schema_editor: Any, from_state, to_state) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)
        else:
            RemoveIndex.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label: str, schema_editor: Any, from_state, to_state) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
        else:
            RemoveIndex.database_backwards(self, app_label, schema_editor, from_state, to_state)
