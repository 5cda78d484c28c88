"""Index migrations that are safe on a live PostgreSQL table and harmless on SQLite."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import connection, models
from django.db.migrations.state import ProjectState

from config.db_indexes import AddIndexOnline, RemoveIndexOnline
from issuers.models import Member


def _index_state(name: str) -> bool | None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE c.relname = %s",
            [name],
        )
        row = cursor.fetchone()
    return None if row is None else row[0]


def _states(operation) -> tuple[ProjectState, ProjectState]:
    before = ProjectState.from_apps(apps)
    after = before.clone()
    operation.state_forwards("issuers", after)
    return before, after


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_online_index_build_can_be_run_again_after_it_stopped_half_way():
    index = models.Index(fields=["issuer", "country"], name="test_member_country")
    add = AddIndexOnline(model_name="member", index=index)
    before, after = _states(add)
    # A build that failed (here a UNIQUE one over duplicates) leaves an INVALID index behind.
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE test_dupes (n int)")
        cursor.execute("INSERT INTO test_dupes VALUES (1), (1)")
    try:
        with connection.cursor() as cursor, pytest.raises(Exception, match="could not create"):
            cursor.execute(
                'CREATE UNIQUE INDEX CONCURRENTLY "test_member_country" ON test_dupes (n)'
            )
        assert _index_state("test_member_country") is False

        with connection.schema_editor(atomic=False) as editor:
            add.database_forwards("issuers", editor, before, after)
        assert _index_state("test_member_country") is True
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT indrelid::regclass::text FROM pg_index WHERE indexrelid = "
                "'test_member_country'::regclass"
            )
            assert cursor.fetchone() == ("issuers_member",)

        with connection.schema_editor(atomic=False) as editor:  # again: kept, no error
            add.database_forwards("issuers", editor, before, after)
        assert _index_state("test_member_country") is True

        remove = RemoveIndexOnline(model_name="member", name="test_member_country")
        with connection.schema_editor(atomic=False) as editor:
            remove.database_forwards("issuers", editor, after, before)
        assert _index_state("test_member_country") is None
    finally:
        with connection.cursor() as cursor:
            cursor.execute('DROP INDEX IF EXISTS "test_member_country"')
            cursor.execute("DROP TABLE test_dupes")


@pytest.mark.django_db(transaction=True)  # SQLite's schema editor refuses to run inside one
def test_the_postgresql_only_indexes_are_built_there_and_nothing_elsewhere():
    trigram = next(i for i in Member._meta.indexes if i.name == "member_search_trgm")
    with connection.schema_editor() as editor:
        sql = str(trigram.create_sql(Member, editor))
        if connection.vendor == "postgresql":
            assert "USING gin" in sql and "gin_trgm_ops" in sql
            return
        assert sql.startswith("--")
        # SQLite re-creates every Meta.indexes entry when it rebuilds a table (as an AlterField
        # does): the trigram and jsonb indexes must not break that.
        editor._remake_table(Member)
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE tbl_name = 'issuers_member'")
        names = {row[0] for row in cursor.fetchall()}
    assert {"member_created", "member_name_search", "member_ref_upper"} <= names
    assert not names & {"member_search_trgm", "member_domains"}
