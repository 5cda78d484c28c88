"""Pages read id first, and the id-set condition that keeps PostgreSQL's planner to a plan.

A list page is an ordered slice, ``rows[:51]``. Read as one plain query, PostgreSQL walks the
order's index and fetches every row it passes from the table, to test the conditions the
index does not hold: a member search by a common word passed 12,000 rows for a page at
1,000,000 members, and 62,000 with a seal status added, each a random read of a wide row. The
same page read id first is ``pk = ANY(ARRAY(SELECT pk … ORDER BY … LIMIT 51))``: the inner
query names only columns an index covers (member_name_search holds the names searched), so it
walks the index alone, and the outer one then reads just the page's rows by primary key.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import BooleanField, F, Func, Model, QuerySet, Subquery
from django.db.models.query import ModelIterable
from django.db.models.sql.compiler import SQLCompiler

_M = TypeVar("_M", bound=Model)


class IdAmong(Func):
    """``<id> = ANY(ARRAY(<subquery>))`` on PostgreSQL, ``<id> IN (<subquery>)`` elsewhere.

    The array is a fence: PostgreSQL runs the subquery once, on its own indexes, and can then
    only look the ids up by primary key. An ``IN`` or ``EXISTS`` is flattened into a semi-join
    whose plan the planner chooses again, and it may choose walking the whole list."""

    arity = 2
    output_field = BooleanField()

    def as_sql(  # type: ignore[override]
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: object
    ) -> tuple[str, tuple]:
        return self._joined(compiler, "{id} IN {sub}")

    def as_postgresql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: object
    ) -> tuple[str, tuple]:
        return self._joined(compiler, "{id} = ANY(ARRAY{sub})")

    def _joined(self, compiler: SQLCompiler, template: str) -> tuple[str, tuple]:
        (id_sql, id_params), (sub_sql, sub_params) = (
            compiler.compile(e) for e in self.get_source_expressions()
        )
        return template.format(id=id_sql, sub=sub_sql), (*id_params, *sub_params)


class IdFirstQuerySet(QuerySet[_M]):
    """A queryset whose ordered slices are read id first (see above), by whoever slices it:
    the console's keyset pages and DRF's cursor pagination alike. The rows, their order, the
    related rows prefetched or selected and the columns deferred are those of the plain read;
    anything else (unordered, annotated, distinct, locking, ``values()``) is read the plain
    way."""

    def __getitem__(self, k: Any) -> Any:
        page = super().__getitem__(k)
        if not (isinstance(k, slice) and isinstance(page, QuerySet) and _by_ids_is_same(page)):
            return page
        rows = page.model._base_manager.db_manager(page.db).filter(
            IdAmong(F("pk"), Subquery(page.values("pk")))
        )
        # The plain read's shape, carried over as Django keeps it on a queryset (there is no
        # public way to copy it): order, select_related, deferred columns, prefetches.
        rows = rows.order_by(*page.query.order_by)
        rows.query.select_related = page.query.select_related
        rows.query.deferred_loading = page.query.deferred_loading
        lookups = page._prefetch_related_lookups  # type: ignore[attr-defined]
        return rows.prefetch_related(*lookups)


def _by_ids_is_same(page: QuerySet) -> bool:
    query = page.query
    return bool(
        query.order_by
        and query.is_sliced
        and page._iterable_class is ModelIterable
        and not (
            query.annotations
            or query.distinct
            or query.extra
            or query.combinator
            or query.select_for_update
        )
    )
