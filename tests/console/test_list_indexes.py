"""The console's member list at scale on PostgreSQL: each sort it offers is one range of the
(issuer, key, id) index the API's cursor uses, on the first page and deep ones (no sequential
scan, no sort, the cursor a bound of the index range rather than a filter)."""

from __future__ import annotations

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from issuers.models import Programme
from issuers.services import programme_default
from tests.issuers.test_list_indexes import (
    ROWS,
    SEED_MEMBERS,
    SEED_SEALS,
    _assert_index_range,
    _plan_nodes,
)

pytestmark = pytest.mark.postgres

# The seeded seals go to status list 1: list 0 holds the fixture's own seal, at a random index
# that a seeded member's id (the seeded index) could equal.
assert "0, m.id, 1," in SEED_SEALS
SEED_SEALS_LIST_1 = SEED_SEALS.replace("0, m.id, 1,", "1, m.id, 1,")


@pytest.fixture
def crowd(world):
    params = {
        "issuer": world.issuer.pk,
        "programme": programme_default(world.issuer).pk,
        "gold": Programme.objects.create(issuer=world.issuer, slug="gold", name="Gold").pk,
        "now": timezone.now(),
        "rows": ROWS,
    }
    with connection.cursor() as cursor:
        cursor.execute(SEED_MEMBERS, params)
        cursor.execute(SEED_SEALS_LIST_1, params)
        cursor.execute("ANALYZE issuers_member")
        cursor.execute("ANALYZE seals_seal")
    return world


def _page(client, query: dict) -> tuple[str, str | None, float]:
    """The member page query's SQL, the next cursor, and the request's time."""
    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        response = client.get(reverse("console:members"), query)
        elapsed = time.perf_counter() - started
    assert response.status_code == 200
    pages = [
        q["sql"]
        for q in captured.captured_queries
        if 'FROM "issuers_member"' in q["sql"] and "LIMIT" in q["sql"]
    ]
    assert len(pages) == 1
    return pages[0], response.context["page"].next_cursor, elapsed


@pytest.mark.parametrize(
    ("sort", "index"),
    [
        ("display_name", "member_display_name"),
        ("-display_name", "member_display_name"),
        ("external_ref", "member_ref_per_issuer"),
        ("-created_at", "member_created"),
        ("-updated_at", "member_updated"),
    ],
)
def test_every_sort_is_an_index_range_on_deep_pages(crowd, viewer_client, sort, index):
    sql, cursor, first = _page(viewer_client, {"sort": sort})
    _assert_index_range(sql, "issuers_member", index)
    for _ in range(100):  # 5,000 rows in
        sql, cursor, deep = _page(viewer_client, {"sort": sort, "cursor": cursor})
    _assert_index_range(sql, "issuers_member", index)
    column = index.removeprefix("member_").replace("ref_per_issuer", "external_ref")
    conds = " ".join(
        n.get("Index Cond", "") for n in _plan_nodes(sql) if n.get("Index Name") == index
    )
    assert column.split("_")[0] in conds, conds  # the cursor bounds the range
    # Shown with -s: the first page and the 101st take about as long.
    print(
        f"console members sort={sort}: page 1 {first * 1000:.0f} ms, page 101 {deep * 1000:.0f} ms"
    )
