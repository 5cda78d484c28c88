"""Pages read id first (config.id_first): the same rows in the same order as the plain read,
with what was prefetched, selected and deferred, in one statement; anything it cannot read
that way is read the plain way."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import Count, Prefetch
from django.test.utils import CaptureQueriesContext

from issuers.models import Member
from seals.models import Seal
from tests.factories import MemberFactory, award

pytestmark = pytest.mark.django_db

ID_SET = ('"issuers_member"."id" = ANY(ARRAY(SELECT', '"issuers_member"."id" IN (SELECT')


def _id_first(sql: str) -> bool:
    return any(shape in sql for shape in ID_SET)


@pytest.fixture
def crowd(issuer):
    # Names repeat, so the order needs its id tie-break to be one order.
    for n in range(12):
        award(MemberFactory(issuer=issuer, display_name=f"Shop {n % 4}"))
    return issuer


@pytest.mark.parametrize(
    "order", [("display_name", "id"), ("-display_name", "-id"), ("-created_at", "-id")]
)
def test_a_page_is_the_plain_reads_page(crowd, order):
    seals = Prefetch("seals", Seal.objects.order_by("id"))
    plain = Member.objects.filter(issuer=crowd).order_by(*order).prefetch_related(seals)
    paged = Member.listing.filter(issuer=crowd).order_by(*order).prefetch_related(seals)
    for start, stop in [(0, 5), (5, 10), (10, 20), (3, 4)]:
        with CaptureQueriesContext(connection) as captured:
            page = list(paged[start:stop])
            public_ids = [[s.public_id for s in m.seals.all()] for m in page]
        assert [m.pk for m in page] == [m.pk for m in plain[start:stop]]
        assert public_ids == [[s.public_id for s in m.seals.all()] for m in plain[start:stop]]
        # The page in one statement, then the prefetch: none per row.
        assert len(captured.captured_queries) == 2, [q["sql"] for q in captured]
        assert _id_first(captured.captured_queries[0]["sql"])


def test_deferred_columns_and_selected_relations_are_kept(crowd):
    page = list(
        Member.listing.filter(issuer=crowd)
        .select_related("issuer")
        .only("display_name", "issuer__slug")
        .order_by("display_name", "id")[:3]
    )
    with CaptureQueriesContext(connection) as captured:
        assert [m.issuer.slug for m in page] == [crowd.slug] * 3
    assert captured.captured_queries == []  # the issuer came with the page
    assert page[0].get_deferred_fields() >= {"legal_name", "contact_email"}


def test_what_it_cannot_read_by_ids_is_read_the_plain_way(crowd):
    listed = Member.listing.filter(issuer=crowd)
    reads = {
        "unordered": lambda: list(listed[:3]),
        "values": lambda: list(listed.order_by("id").values("display_name")[:3]),
        "annotated": lambda: list(listed.annotate(n=Count("seals")).order_by("id")[:3]),
        "one row": lambda: listed.order_by("id")[0],
        "locking": lambda: list(listed.order_by("id").select_for_update()[:3]),
    }
    for name, read in reads.items():
        with CaptureQueriesContext(connection) as captured:
            read()
        assert not _id_first(captured.captured_queries[0]["sql"]), name
    with CaptureQueriesContext(connection) as captured:
        list(listed.order_by("id")[:3])
    assert _id_first(captured.captured_queries[0]["sql"])
