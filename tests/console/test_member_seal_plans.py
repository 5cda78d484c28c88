"""The member list's two plans for a seal filter (seals.selectors.members_holding_seals): starting
from the few seals that meet it, or walking the members in list order. Whichever runs, the
console and the API list the same members, in the same order, page by page with the same
cursors, and those members are the ones seals.status says hold such a seal; the bounded count
of the issuer's own matching seals decides which runs."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from issuers.models import Member, Programme
from seals import selectors
from seals.models import Seal, SealStatus
from seals.services import seal_revoke, seal_suspend
from seals.status import effective_status
from tests.api_support import Api
from tests.factories import MemberFactory, award

# (SEAL_FIRST_MAX_SEALS, FEW_SEALS_OF_A_STATUS) for each plan: any count is at most the first
# threshold, none is at most the second; the walk's id range found both ways a part allows.
PLANS = {
    "seal-first": (10**9, 10**9),
    "walk": (-1, 10**9),
    "walk, range ends in member order": (-1, -1),
}


def _force(monkeypatch, plan: str) -> None:
    seal_first, few = PLANS[plan]
    monkeypatch.setattr(selectors, "SEAL_FIRST_MAX_SEALS", seal_first)
    monkeypatch.setattr(selectors, "FEW_SEALS_OF_A_STATUS", few)


@pytest.fixture
def crowd(world):
    """24 more members of the issuer, names in tied groups, holding every kind of seal: some
    two (a revoked one beside an active one, two pending ones), some none; and another
    issuer's members holding the same kinds, which no list of this issuer may show."""
    gold = Programme.objects.create(issuer=world.issuer, slug="gold", name="Gold")
    their_gold = Programme.objects.create(issuer=world.other_issuer, slug="gold", name="Gold")
    for n in range(24):
        member = MemberFactory(
            issuer=world.issuer, legal_name=f"Bakery {n} Ltd", display_name=f"Shop {n % 5}"
        )
        programme = gold if n % 4 == 0 else None
        kind = n % 6
        if kind == 0:
            award(member, programme=programme)
        elif kind == 1:
            award(member, start_days=5, programme=programme)  # pending
            if n % 4 == 1:
                award(member, start_days=9)
        elif kind == 2:
            seal_revoke(seal=award(member, programme=programme), reason="left", actor="t")
            award(member)
        elif kind == 3:
            seal_suspend(seal=award(member, programme=programme), reason="fees", actor="t")
        elif kind == 4:
            # Expired by its dates and not yet swept: the status column still says active.
            seal = award(member, programme=programme)
            Seal.objects.filter(pk=seal.pk).update(
                valid_from=timezone.now() - timedelta(days=30),
                expires_at=timezone.now() - timedelta(days=1),
            )
        # kind 5: no seal
    for n in range(4):
        theirs = MemberFactory(issuer=world.other_issuer, display_name=f"Shop {n}")
        seal_revoke(seal=award(theirs, programme=their_gold), reason="left", actor="t")
        award(MemberFactory(issuer=world.other_issuer), start_days=5, programme=their_gold)
    return world


# The seal-first plan's condition: the members' ids among its seals' member ids. (A page is
# read id first, so its query holds an id-set condition of its own, on members' ids.)
SEAL_FIRST = re.compile(r'(= ANY\(ARRAY\(| IN \()SELECT \w+\."member_id"')


def _plan(sql: str) -> str:
    if SEAL_FIRST.search(sql):
        return "seal-first"
    assert "EXISTS(SELECT" in sql.replace("EXISTS (", "EXISTS("), sql
    return "walk"


def _console_pages(client, query: dict) -> tuple[list[tuple[list[int], str | None]], set[str]]:
    """Every page of the console's list for ``query``, two members a page: (ids, next
    cursor) each, and the plans the page queries ran."""
    pages, plans, cursor = [], set(), None
    while True:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(
                reverse("console:members"), {**query, **({"cursor": cursor} if cursor else {})}
            )
        assert response.status_code == 200
        plans |= {
            _plan(q["sql"])
            for q in captured.captured_queries
            if 'FROM "issuers_member"' in q["sql"] and "LIMIT" in q["sql"]
        }
        page = response.context["page"]
        assert not response.context["error"]
        cursor = page.next_cursor
        pages.append(([m.pk for m in page.items], cursor))
        if cursor is None:
            return pages, plans


def _api_pages(api: Api, query: dict) -> list[tuple[list[int], str | None]]:
    pages, url = [], f"/api/v1/members?{urlencode({**query, 'limit': 2})}"
    while url:
        response = api.client.get(url)
        assert response.status_code == 200, response.content[:300]
        body = response.json()
        url = body["next"]
        pages.append(([m["id"] for m in body["results"]], url))
    return pages


def _holders(issuer, *, status: str | None = None, programme: str | None = None) -> set[int]:
    """Members holding a seal of this status (by seals.status, the one rule) and programme."""
    now = timezone.now()
    return {
        seal.member_id
        for seal in Seal.objects.filter(issuer=issuer).select_related("programme")
        if (status is None or effective_status(seal, now) == status)
        and (programme is None or seal.programme.slug == programme)
    }


FILTERS = [
    *({"status": status} for status in SealStatus.values),
    {"programme": "gold"},
    {"status": "revoked", "programme": "gold"},
    {"status": "pending", "q": "shop 1"},
    {"status": "active", "q": "bakery"},
]


@pytest.mark.parametrize("sort", ["display_name", "-display_name", "-created_at", "external_ref"])
def test_both_plans_list_the_same_pages_in_the_console(crowd, viewer_client, monkeypatch, sort):
    monkeypatch.setattr("console.views.MEMBERS_PER_PAGE", 2)
    several_pages = 0
    for filters in FILTERS:
        query = {**filters, "sort": sort}
        listed = {}
        for plan in PLANS:
            _force(monkeypatch, plan)
            listed[plan], plans = _console_pages(viewer_client, query)
            assert plans == {plan.split(",")[0]}, (query, plans)
        assert all(pages == listed["seal-first"] for pages in listed.values()), query
        ids = [pk for page, _ in listed["walk"] for pk in page]
        assert len(ids) == len(set(ids)), query  # a member with two such seals, listed once
        expected = _holders(
            crowd.issuer, status=filters.get("status"), programme=filters.get("programme")
        )
        if q := filters.get("q"):
            names = Member.objects.filter(issuer=crowd.issuer, pk__in=expected)
            expected = {
                m.pk for m in names if q in m.display_name.lower() or q in m.legal_name.lower()
            }
        assert set(ids) == expected, query
        several_pages += len(listed["walk"]) > 1
    assert several_pages >= 6  # the cursors are compared, not only first pages


@pytest.mark.parametrize("ordering", ["display_name", "-created_at"])
def test_both_plans_list_the_same_pages_in_the_api(crowd, monkeypatch, ordering):
    api = Api(crowd.issuer)
    several_pages = 0
    for filters in FILTERS:
        query = {**filters, "ordering": ordering}
        listed = {}
        for plan in PLANS:
            _force(monkeypatch, plan)
            listed[plan] = _api_pages(api, query)
        assert all(pages == listed["seal-first"] for pages in listed.values()), query
        several_pages += len(listed["walk"]) > 1
    assert several_pages >= 6


def _chosen(issuer, **filters) -> str:
    found = selectors.members_list(issuer=issuer, filters=filters, now=timezone.now())
    return _plan(str(found.query))


def test_the_plan_flips_at_the_threshold_of_the_issuers_own_seals(crowd, monkeypatch):
    # Four revoked seals of this issuer; the other issuer's four do not count.
    revoked = Seal.objects.filter(issuer=crowd.issuer, status=SealStatus.REVOKED).count()
    assert revoked == 4
    assert Seal.objects.filter(status=SealStatus.REVOKED).count() == revoked + 4
    monkeypatch.setattr(selectors, "SEAL_FIRST_MAX_SEALS", revoked)
    assert _chosen(crowd.issuer, status="revoked") == "seal-first"
    assert _chosen(crowd.issuer, status="revoked", q="shop") == "seal-first"
    monkeypatch.setattr(selectors, "SEAL_FIRST_MAX_SEALS", revoked - 1)
    assert _chosen(crowd.issuer, status="revoked") == "walk"
    # Every condition narrows the count: revoked in gold are fewer.
    gold = Seal.objects.filter(issuer=crowd.issuer, status="revoked", programme__slug="gold")
    monkeypatch.setattr(selectors, "SEAL_FIRST_MAX_SEALS", gold.count())
    assert 0 < gold.count() < revoked
    assert _chosen(crowd.issuer, status="revoked", programme="gold") == "seal-first"
    assert _chosen(crowd.issuer, status="revoked") == "walk"


def test_no_seal_filter_is_neither_plan(crowd):
    found = selectors.members_list(issuer=crowd.issuer, filters={"q": "shop"}, now=timezone.now())
    sql = str(found.query)
    assert "seals_seal" not in sql.split("ORDER BY")[0], sql


@pytest.mark.parametrize("plan", ["walk", "walk, range ends in member order"])
def test_the_walk_passes_over_members_outside_the_holders_id_range(crowd, monkeypatch, plan):
    # Every member holding such a seal lies between the lowest and highest of their ids: the
    # walk is bounded there, and a member outside it is never probed.
    _force(monkeypatch, plan)
    for status in ("revoked", "expired", "pending", "active"):
        holders = _holders(crowd.issuer, status=status)
        found = selectors.members_list(
            issuer=crowd.issuer, filters={"status": status}, now=timezone.now()
        )
        ranges = [
            tuple(child.rhs)
            for child in found.query.where.children
            if getattr(child, "lookup_name", "") == "range"
        ]
        assert ranges == [(min(holders), max(holders))], (status, str(found.query))
        assert {m.pk for m in found} == holders


@pytest.mark.parametrize("status", [None, "revoked", "suspended", "expired", "active"])
def test_expiring_before_lists_the_same_members_in_both_plans(crowd, monkeypatch, status):
    now = timezone.now()
    before = now + timedelta(days=400)
    filters = {"expiring_before": before, **({"status": status} if status else {})}
    expected = {
        seal.member_id
        for seal in Seal.objects.filter(issuer=crowd.issuer)
        if seal.expires_at is not None
        and seal.expires_at < before
        and seal.status != SealStatus.REVOKED  # a revoked seal has ended, it is not expiring
        and (status is None or effective_status(seal, now) == status)
    }
    assert bool(expected) == (status != "revoked")
    for plan in PLANS:
        _force(monkeypatch, plan)
        found = selectors.members_list(issuer=crowd.issuer, filters=filters, now=now)
        assert {m.pk for m in found} == expected, (plan, filters)
