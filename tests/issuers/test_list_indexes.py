"""The member and seal lists at scale: on PostgreSQL every list order is one index range (no
sequential scan of the big table, no sort), search goes through its trigram indexes and finds
exactly the rows a scan finds; on every engine the filters keep their meaning."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from issuers.models import Member, Programme
from issuers.services import programme_default
from seals import selectors
from seals.models import Seal, SealStatus
from tests.factories import MemberFactory, award

pytestmark = pytest.mark.django_db

ROWS = 20_000  # enough that PostgreSQL's planner weighs an index range against a scan

SEED_MEMBERS = """
INSERT INTO issuers_member (
    issuer_id, external_ref, legal_name, display_name, domains, country, contact_name,
    contact_email, contact_email_hash, contact_phone, restricted, marketing_opt_out, language,
    created_at, updated_at)
SELECT %(issuer)s, 'R-' || n, 'Legal ' || md5(n::text) || ' Ltd', 'Shop ' || (n %% 700),
    jsonb_build_array('m' || n || '.example'), 'GB', '', '', '', '', false, false, 'en',
    %(now)s - n * interval '1 minute', %(now)s - n * interval '1 minute'
FROM generate_series(1, %(rows)s) AS n
"""
# One seal each: 2 % revoked, 2 % suspended, 10 % expired and swept, the rest active; 1 % in
# the programme "gold".
SEED_SEALS = """
INSERT INTO seals_seal (
    public_id, issuer_id, member_id, programme_id, status, status_reason, status_changed_at,
    valid_from, expires_at, status_list, status_list_index, version, created_at, updated_at)
SELECT substr(md5('seal' || m.id), 1, 22), %(issuer)s, m.id,
    CASE WHEN m.id %% 100 = 5 THEN %(gold)s ELSE %(programme)s END,
    CASE WHEN m.id %% 50 = 0 THEN 'revoked' WHEN m.id %% 50 = 1 THEN 'suspended'
         WHEN m.id %% 10 = 2 THEN 'expired' ELSE 'active' END,
    '', m.created_at, m.created_at,
    CASE WHEN m.id %% 10 = 2 THEN %(now)s - interval '1 day' ELSE %(now)s + interval '1 year' END,
    0, m.id, 1, m.created_at, m.created_at
FROM issuers_member m WHERE m.issuer_id = %(issuer)s
"""


@pytest.fixture
def crowd(api):
    """ROWS members with a seal each in the API's issuer, written in SQL (factories would take
    minutes), then analysed as autovacuum would."""
    now = timezone.now()
    params = {
        "issuer": api.issuer.pk,
        "programme": programme_default(api.issuer).pk,
        "gold": Programme.objects.create(issuer=api.issuer, slug="gold", name="Gold").pk,
        "now": now,
        "rows": ROWS,
    }
    with connection.cursor() as cursor:
        cursor.execute(SEED_MEMBERS, params)
        cursor.execute(SEED_SEALS, params)
        cursor.execute("ANALYZE issuers_member")
        cursor.execute("ANALYZE seals_seal")
        # Autovacuum would also have merged the trigram index's pending entries, which the
        # planner otherwise prices as a read of all 20,000.
        cursor.execute("SELECT gin_clean_pending_list('member_search_trgm')")
    return api


def _page_query(api, url: str, table: str) -> str:
    """The SQL of the page query (the LIMIT on ``table``) behind one API request."""
    with CaptureQueriesContext(connection) as captured:
        response = api.client.get(url)
    assert response.status_code == 200, response.content[:300]
    pages = [
        q["sql"]
        for q in captured.captured_queries
        if f'FROM "{table}"' in q["sql"] and "LIMIT" in q["sql"]
    ]
    assert len(pages) == 1, [q["sql"][:120] for q in captured.captured_queries]
    return pages[0]


def _plan_nodes(sql: str) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql)
        (raw,) = cursor.fetchone()
    return _subtree((json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"])


def _subtree(node: dict) -> list[dict]:
    nodes, stack = [], [node]
    while stack:
        node = stack.pop()
        nodes.append(node)
        stack.extend(node.get("Plans", []))
    return nodes


def _assert_index_range(sql: str, table: str, index: str) -> None:
    """The page is one range of ``index``: under the page's LIMIT, that index is scanned and
    nothing is sorted. (A page read id first then sorts its own rows, 51 at most, above it.)"""
    nodes = _plan_nodes(sql)
    summary = [(n["Node Type"], n.get("Relation Name"), n.get("Index Name")) for n in nodes]
    assert not [n for n in nodes if n["Node Type"] == "Seq Scan"], summary
    pages = [_subtree(n) for n in nodes if n["Node Type"] == "Limit"]
    assert len(pages) == 1, summary
    (page,) = pages
    assert not [n for n in page if "Sort" in n["Node Type"]], summary
    assert (index, table) in {(n.get("Index Name"), n.get("Relation Name")) for n in page}, summary


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("ordering", "index"),
    [
        (None, "member_created"),
        ("created_at", "member_created"),
        ("-updated_at", "member_updated"),
        ("display_name", "member_name_search"),
        ("-legal_name", "member_legal_name"),
        ("external_ref", "member_ref_per_issuer"),
    ],
)
def test_every_member_order_is_an_index_range_on_every_page(crowd, ordering, index):
    url = "/api/v1/members?limit=50" + (f"&ordering={ordering}" if ordering else "")
    _assert_index_range(_page_query(crowd, url, "issuers_member"), "issuers_member", index)
    # A page further on: the cursor's position is one more bound of the same range.
    for _ in range(3):
        url = crowd.client.get(url).json()["next"]
    _assert_index_range(_page_query(crowd, url, "issuers_member"), "issuers_member", index)


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("query", "index"),
    [
        ("", "seal_created"),
        ("status=revoked", "seal_status_created"),
        ("status=suspended", "seal_status_created"),
        ("programme=gold", "seal_programme_created"),
    ],
)
def test_the_seal_list_is_an_index_range_on_every_page(crowd, query, index):
    url = f"/api/v1/seals?limit=50&{query}"
    _assert_index_range(_page_query(crowd, url, "seals_seal"), "seals_seal", index)
    url = crowd.client.get(url).json()["next"]
    _assert_index_range(_page_query(crowd, url, "seals_seal"), "seals_seal", index)


def _member_ids(issuer, **filters) -> list[int]:
    found = selectors.members_list(issuer=issuer, filters=filters, now=timezone.now())
    return sorted(found.values_list("pk", flat=True))


@pytest.mark.postgres
def test_search_goes_through_the_trigram_indexes(crowd):
    needle = Member.objects.filter(issuer=crowd.issuer, external_ref="R-777").get()
    word = needle.legal_name.split()[1][5:13]  # eight hex digits from the middle of its md5
    searches = {
        f"q={word}": {"member_search_trgm", "member_ref_upper"},
        "q=r-777": {"member_ref_upper"},
        "domain=m777.example": {"member_domains"},
    }
    for query, indexes in searches.items():
        nodes = _plan_nodes(_page_query(crowd, f"/api/v1/members?{query}", "issuers_member"))
        used = {n.get("Index Name") for n in nodes}
        assert indexes <= used, (query, used)
        assert not [n for n in nodes if n["Node Type"] == "Seq Scan"], query
    assert needle.pk in _member_ids(crowd.issuer, q=word)


@pytest.mark.postgres
def test_a_common_word_walks_the_name_index_alone(crowd):
    """ "shop 1" is in 16 % of the names: a page of them is the first few hundred entries of
    member_name_search, which holds the searched names, so the page's ids come from the index
    alone (no table row read to test a name), and no matching row is sorted."""
    url = "/api/v1/members?limit=50&ordering=display_name&q=shop%201"
    _assert_index_range(
        _page_query(crowd, url, "issuers_member"), "issuers_member", "member_name_search"
    )
    nodes = _plan_nodes(_page_query(crowd, url, "issuers_member"))
    walks = [n for n in nodes if n.get("Index Name") == "member_name_search"]
    assert [n["Node Type"] for n in walks] == ["Index Only Scan"], walks
    names = [m["display_name"] for m in crowd.client.get(url).json()["results"]]
    assert len(names) == 50 and all(n.startswith("Shop 1") for n in names), names


@pytest.mark.postgres
def test_the_search_column_keeps_a_fine_histogram():
    """The planner's sense of how common a word is comes from this histogram (migration 0020)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attstattarget FROM pg_attribute WHERE attrelid = 'issuers_member'::regclass"
            " AND attname = 'search_names'"
        )
        assert cursor.fetchone() == (1000,)


@pytest.mark.postgres
@pytest.mark.parametrize(
    "q",
    ["shop 7", "SHOP 69", "ltd", "Legal 1", "ab", "a", "r-1", "R-20000", "%", "_", "p 1%", "ü"],
)
def test_search_finds_the_same_members_as_a_scan(crowd, q):
    """The trigram index only picks candidates; the LIKE still decides. With index and bitmap
    scans off the same query is answered by a sequential scan, as before the indexes."""
    MemberFactory(issuer=crowd.issuer, legal_name="Müller Bäckerei ÜBER", display_name="Mü")
    MemberFactory(issuer=crowd.issuer, legal_name="100% Shop_1 Ltd", display_name="Shop 1%")
    with_indexes = _member_ids(crowd.issuer, q=q)
    with connection.cursor() as cursor:
        cursor.execute("SET enable_indexscan = off")
        cursor.execute("SET enable_bitmapscan = off")
    try:
        scanned = _member_ids(crowd.issuer, q=q)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET enable_indexscan")
            cursor.execute("RESET enable_bitmapscan")
    assert with_indexes == scanned
    assert with_indexes, q  # every q above matches something: the comparison is not vacuous


def _old_members_filter(issuer, now, *, status=None, programme=None, before=None) -> list[int]:
    """The member filters as they were written before EXISTS: a join, de-duplicated by id."""
    seal_q = Q()
    if status:
        seal_q &= selectors.seal_status_q(status, now, prefix="seals__")
    if programme:
        seal_q &= Q(seals__programme__slug=programme)
    if before:
        seal_q &= Q(seals__expires_at__lt=before) & ~Q(seals__status=SealStatus.REVOKED)
    return sorted(
        Member.objects.filter(issuer=issuer)
        .filter(pk__in=Member.objects.filter(issuer=issuer).filter(seal_q))
        .values_list("pk", flat=True)
    )


def test_seal_filters_pick_the_same_members_and_seals_as_before(issuer, other_issuer):
    from seals.services import seal_revoke, seal_suspend

    now = timezone.now()
    gold = Programme.objects.create(issuer=issuer, slug="gold", name="Gold")
    Programme.objects.create(issuer=other_issuer, slug="gold", name="Their gold")
    members = [MemberFactory(issuer=issuer) for _ in range(6)]
    award(members[0], days=10)
    award(members[0], days=300, programme=gold)  # two seals: listed once
    award(members[1], start_days=5)  # pending
    seal_revoke(seal=award(members[2], days=5), reason="left", actor="t")
    seal_suspend(seal=award(members[3], programme=gold), reason="fees", actor="t")
    award(members[4], days=1)
    award(MemberFactory(issuer=other_issuer), days=10)  # another issuer's: never listed
    later = now + timedelta(days=2)  # members[4]'s seal has expired by then, unswept
    soon = now + timedelta(days=30)

    cases = [{"status": s} for s in SealStatus.values]
    cases += [{"programme": "gold"}, {"programme": "none"}, {"before": soon}]
    cases += [{"status": "active", "programme": "gold", "before": soon}]
    for case in cases:
        filters = {"status": case.get("status"), "programme": case.get("programme")}
        filters["expiring_before"] = case.get("before")
        filters = {k: v for k, v in filters.items() if v}
        found = selectors.members_list(issuer=issuer, filters=filters, now=later)
        assert sorted(found.values_list("pk", flat=True)) == _old_members_filter(
            issuer, later, **case
        ), case
        seals = selectors.seals_list(issuer=issuer, filters=filters, now=later)
        old = Seal.objects.filter(issuer=issuer)
        if status := case.get("status"):
            old = old.filter(selectors.seal_status_q(status, later))
        if programme := case.get("programme"):
            old = old.filter(programme__slug=programme)
        if before := case.get("before"):
            old = old.filter(expires_at__lt=before).exclude(status=SealStatus.REVOKED)
        assert sorted(seals.values_list("pk", flat=True)) == sorted(
            old.values_list("pk", flat=True)
        ), case


def test_a_non_unique_order_pages_through_ties_once_each(api):
    same = [MemberFactory(issuer=api.issuer, display_name="Same Name") for _ in range(7)]
    other = [MemberFactory(issuer=api.issuer, display_name=name) for name in ("A", "Z")]

    seen, url = [], "/api/v1/members?ordering=display_name&limit=3"
    while url:
        page = api.client.get(url).json()
        seen += [m["id"] for m in page["results"]]
        url = page["next"]

    # Ties in id order: DRF's cursor counts an offset through them, so their order must hold.
    assert seen == [other[0].pk, *sorted(m.pk for m in same), other[1].pk]
    backwards = [m["id"] for m in api.get("/members", ordering="-display_name").json()["results"]]
    assert backwards == list(reversed(seen))


@pytest.mark.parametrize("path", ["/api/v1/seals", "/api/v1/members"])
def test_a_page_costs_the_same_queries_for_one_row_as_for_many(api, path):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert api.client.get(path).status_code == 200
        return len(captured.captured_queries)

    award(MemberFactory(issuer=api.issuer))
    queries()  # the key's first use is recorded once
    one = queries()
    for _ in range(6):
        award(MemberFactory(issuer=api.issuer, contact_email="someone@example.org"))
    assert queries() == one  # nothing fetched per row (the seals' members are not re-read)
