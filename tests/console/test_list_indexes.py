"""The console's member list at scale on PostgreSQL: each sort it offers is one range of the
(issuer, key, id) index the API's cursor uses, on the first page and deep ones (no sequential
scan, no sort, the cursor a bound of the index range rather than a filter)."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from issuers.models import Member, Programme
from issuers.services import programme_default
from seals.models import Seal
from tests.issuers.test_list_indexes import (
    ROWS,
    SEED_MEMBERS,
    SEED_SEALS,
    _assert_index_range,
    _plan_nodes,
    _subtree,
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
        ("display_name", "member_name_search"),
        ("-display_name", "member_name_search"),
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


SEAL_INDEXES = {
    "seal_due_start",
    "seal_due_expiry",
    "seal_status_created",
    "seal_status_expiry_holder",
}


def test_a_seal_status_few_members_have_starts_from_the_seal_index(crowd, viewer_client):
    """Pending seals held only by the members last in name order (11 %, about 2,200): the
    planner, unaware of that, prices walking member_name_search and probing each member's
    seals as reading 50 / 11 % rows, and would read nearly all 20,000 (the misjudgement that
    made status=pending take 1.1 s at 1,000,000 members, docs/performance.md). The list looks
    them up in a seal index instead, then their members by primary key."""
    soon = timezone.now() + timedelta(days=10)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE seals_seal SET valid_from = %s WHERE issuer_id = %s AND status = 'active'"
            " AND member_id IN (SELECT id FROM issuers_member WHERE display_name >= 'Shop 65')",
            [soon, crowd.issuer.pk],
        )
        cursor.execute("ANALYZE seals_seal")
    pending = Seal.objects.filter(issuer=crowd.issuer, valid_from=soon).values("member_id")
    assert 1_500 <= pending.count() <= 3_000
    sql, cursor, _ = _page(viewer_client, {"status": "pending"})
    # Index names, not relations: a bitmap index scan node names only its index.
    used = {n.get("Index Name") for n in _plan_nodes(sql)}
    assert used & SEAL_INDEXES, used
    assert "issuers_member_pkey" in used, used
    assert "member_name_search" not in used, used
    listed = viewer_client.get(reverse("console:members"), {"status": "pending"}).context["page"]
    first = Member.objects.filter(pk__in=pending).order_by("display_name", "id")[:50]
    assert [m.pk for m in listed.items] == [m.pk for m in first]
    assert cursor is not None


def test_a_common_seal_status_walks_the_name_index(crowd, viewer_client):
    # 86 % of the seals are active: the first 50 names nearly all qualify, so the list walks
    # member_name_search as the unfiltered list does (no sort of 17,000 members).
    sql, cursor, _ = _page(viewer_client, {"status": "active"})
    _assert_index_range(sql, "issuers_member", "member_name_search")
    assert cursor is not None


def test_a_common_word_and_a_seal_status_walk_the_name_index_alone(
    crowd, viewer_client, monkeypatch
):
    """A word in 16 % of the names and a status a tenth of the seals have: about one member
    in 60, so a page walks some 3,000 entries of member_name_search. The names are tested in
    the index and the seals probed from it, without reading a member row (at 1,000,000
    members a word and a status read 62,000 member rows this way, 130 ms). The threshold is
    lowered so the walk is the plan."""
    from seals import selectors

    monkeypatch.setattr(selectors, "SEAL_FIRST_MAX_SEALS", 100)
    query = {"q": "shop 1", "status": "expired"}
    sql, _, _ = _page(viewer_client, query)
    _assert_index_range(sql, "issuers_member", "member_name_search")
    walks = [n for n in _plan_nodes(sql) if n.get("Index Name") == "member_name_search"]
    assert [n["Node Type"] for n in walks] == ["Index Only Scan"], walks
    listed = viewer_client.get(reverse("console:members"), query).context["page"].items
    expected = (
        Member.objects.filter(
            issuer=crowd.issuer, display_name__startswith="Shop 1", seals__status="expired"
        )
        .order_by("display_name", "id")
        .values_list("pk", flat=True)[:50]
    )
    assert [m.pk for m in listed] == list(expected) and len(listed) == 50


def test_a_country_in_name_order_is_a_range_of_the_country_index(crowd, viewer_client):
    # 2 % of the members abroad: the default order's page is one range of member_country
    # (issuer, country, display_name, id), not a walk of the names testing each row's country.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE issuers_member SET country = 'FR' WHERE issuer_id = %s AND id %% 50 = 7",
            [crowd.issuer.pk],
        )
        cursor.execute("ANALYZE issuers_member")
    sql, cursor, _ = _page(viewer_client, {"country": "fr"})
    _assert_index_range(sql, "issuers_member", "member_country")
    assert cursor is not None
    listed = viewer_client.get(reverse("console:members"), {"country": "FR"}).context["page"]
    expected = Member.objects.filter(issuer=crowd.issuer, country="FR").order_by(
        "display_name", "id"
    )
    assert [m.pk for m in listed.items] == list(expected.values_list("pk", flat=True)[:50])


def test_a_status_only_the_oldest_members_hold_probes_no_newer_member(
    crowd, viewer_client, monkeypatch
):
    """Expired seals held only by the oldest 15 % of members, as when old members let their
    membership lapse: newest first, the walk would probe the seals of the 17,000 newer members
    before its first match (at 1,000,000 members, 200,000 probes: 190 ms). Bounded by the
    holders' id range, which it tests on the index entry, it probes about a page's worth.
    The threshold is lowered so the walk is the plan."""
    from seals import selectors

    monkeypatch.setattr(selectors, "SEAL_FIRST_MAX_SEALS", 100)
    now = timezone.now()
    members = Member.objects.filter(issuer=crowd.issuer)
    oldest = members.order_by("created_at", "id")[: ROWS * 15 // 100]
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE seals_seal SET status = CASE WHEN member_id = ANY(%s) THEN 'expired'"
            " ELSE 'active' END, expires_at = CASE WHEN member_id = ANY(%s)"
            " THEN %s - interval '1 day' ELSE %s + interval '1 year' END"
            " WHERE issuer_id = %s AND status IN ('active', 'expired')",
            [[m.pk for m in oldest]] * 2 + [now, now, crowd.issuer.pk],
        )
        cursor.execute("ANALYZE seals_seal")
    holders = members.filter(seals__status="expired")
    newer = members.filter(created_at__gt=holders.order_by("-created_at")[0].created_at)
    assert newer.count() > ROWS * 8 // 10
    query = {"status": "expired", "sort": "-created_at"}
    sql, _, _ = _page(viewer_client, query)
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql)
        (raw,) = cursor.fetchone()
    plan = (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]
    probes = [
        n["Actual Loops"]
        for n in _subtree(plan)
        if n.get("Relation Name") == "seals_seal" and "Index" in n["Node Type"]
    ]
    assert probes and max(probes) < 500, (probes, plan)
    listed = viewer_client.get(reverse("console:members"), query).context["page"].items
    expected = holders.order_by("-created_at", "-id").values_list("pk", flat=True)[:50]
    assert [m.pk for m in listed] == list(expected) and len(listed) == 50


def _blocks(sql: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql)
        (raw,) = cursor.fetchone()
    plan = (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]
    return plan["Shared Hit Blocks"] + plan["Shared Read Blocks"]


@pytest.mark.django_db(transaction=True)  # to VACUUM, as autovacuum would
def test_finding_the_holders_range_reads_a_few_index_pages_when_every_expiry_is_swept(
    crowd, viewer_client, monkeypatch
):
    """status=expired asks for the dated seals past their expiry too, not yet swept; the moment
    after a sweep there are none. Looking for the first of them in member order would read
    every active seal's index entry (290 ms at 1,000,000); the list reads them from the expiry
    index instead, which says at once that there are none. The threshold is lowered so the
    walk, and its range, is the plan."""
    from seals import selectors

    monkeypatch.setattr(selectors, "SEAL_FIRST_MAX_SEALS", 100)
    with connection.cursor() as cursor:
        # The visibility map, without which PostgreSQL prices an index-only read of a range
        # as the same read of the table's rows.
        cursor.execute("VACUUM ANALYZE seals_seal")
    now = timezone.now()
    seals = Seal.objects.filter(issuer=crowd.issuer)
    assert seals.filter(status="expired").count() > 1_000
    assert not seals.filter(status__in=["active", "pending"], expires_at__lte=now).exists()
    with CaptureQueriesContext(connection) as captured:
        response = viewer_client.get(reverse("console:members"), {"status": "expired"})
    assert response.status_code == 200 and len(response.context["page"].items) == 50
    # The queries that choose the plan and bound it: not the page, nor its seals to show.
    reads = {
        q["sql"]: _blocks(q["sql"])
        for q in captured.captured_queries
        if "seals_seal" in q["sql"]
        and 'FROM "issuers_member"' not in q["sql"]
        and '"seals_seal"."member_id" IN (' not in q["sql"]
    }
    assert len(reads) >= 3, reads  # the count, the few unswept seals, the range's ends
    assert max(reads.values()) < 40, reads
