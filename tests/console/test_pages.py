"""The read pages: dashboard, members (search, filters, sorting, keyset pages), audit log and
its CSV export."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from console.paging import keyset_page
from issuers.models import Member
from seals.models import DailyStat, SealEvent
from seals.services import seal_suspend
from tests.factories import MemberFactory, award


def test_the_dashboard_counts_by_status_and_draws_the_chart(world, viewer_client):
    seal_suspend(seal=award(MemberFactory(issuer=world.issuer)), reason="x", actor="test")
    soon = award(MemberFactory(issuer=world.issuer, legal_name="Soon Ltd"), days=10)
    today = timezone.now().date()
    DailyStat.objects.create(seal=world.seal, day=today, impressions=40, verification_views=7)
    DailyStat.objects.create(seal=world.seal, day=today - timedelta(days=3), misuse_hits=2)
    # Another issuer's counts are not this issuer's.
    DailyStat.objects.create(seal=world.other_seal, day=today, impressions=999, misuse_hits=50)
    response = viewer_client.get(reverse("console:dashboard"))
    assert response.status_code == 200
    context = response.context
    counts = {value: n for value, _, n in context["by_status"]}
    assert counts["active"] == 2 and counts["suspended"] == 1 and counts["revoked"] == 0
    assert context["members"]["total"] == 3
    assert [s.pk for s in context["expiring"]] == [soon.pk]
    assert context["series"].totals.impressions == 40
    assert context["series"].totals.misuse_hits == 2
    assert len(context["series"].days) == 30
    body = response.content.decode()
    assert "<svg" in body and 'class="impressions"' in body
    assert "<script" not in body and "style=" not in body  # the CSP allows neither inline


def test_members_search_by_name_number_and_domain(world, viewer_client):
    MemberFactory(
        issuer=world.issuer, legal_name="Zebra Works", external_ref="Z-9", domains=["zebra.example"]
    )
    url = reverse("console:members")

    def names(**query) -> list[str]:
        response = viewer_client.get(url, query)
        assert response.status_code == 200
        return [member.legal_name for member, _ in response.context["rows"]]

    assert names(q="zebra") == ["Zebra Works"]
    assert names(q="z-9") == ["Zebra Works"]
    assert names(domain="ZEBRA.example") == ["Zebra Works"]
    assert names(status="active") == [world.member.legal_name]
    assert names(programme=world.seal.programme.slug) == [world.member.legal_name]
    assert len(names()) == 2


def test_members_filter_by_country(world, viewer_client):
    MemberFactory(issuer=world.issuer, legal_name="Paris SARL", country="FR")
    MemberFactory(issuer=world.other_issuer, legal_name="Lyon SA", country="FR")
    url = reverse("console:members")
    response = viewer_client.get(url, {"country": " fr "})
    assert response.status_code == 200
    assert [m.legal_name for m, _ in response.context["rows"]] == ["Paris SARL"]
    assert 'name="country"' in response.content.decode()
    bad = viewer_client.get(url, {"country": "XX"})
    assert bad.status_code == 400 and bad.context["rows"] == []
    assert "not a country code" in bad.content.decode()
    mistaken = viewer_client.get(url, {"country": "uk"})
    assert mistaken.status_code == 400
    assert "that country&#x27;s code is GB" in mistaken.content.decode()


def test_a_bad_filter_is_a_clear_error(world, viewer_client):
    response = viewer_client.get(reverse("console:members"), {"status": "nonsense"})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert response.context["rows"] == []  # no list that silently ignores the filter


def test_members_are_paged_by_keyset_in_the_chosen_order(world, viewer_client):
    for n in range(7):
        MemberFactory(issuer=world.issuer, legal_name=f"Page {n}", display_name=f"Page {n}")
    queryset = Member.objects.filter(issuer=world.issuer)
    seen, cursor = [], None
    while True:
        page = keyset_page(queryset, order="-display_name", cursor=cursor, size=3)
        seen += [m.display_name for m in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == sorted(queryset.values_list("display_name", flat=True), reverse=True)
    # Through the page: the next link carries the cursor and the filters.
    first = viewer_client.get(reverse("console:members"), {"sort": "display_name"})
    assert first.context["page"].next_cursor is None  # 8 members fit one page of 50
    forged = viewer_client.get(reverse("console:members"), {"cursor": "!!not-a-cursor"})
    assert forged.status_code == 200 and "not valid" in forged.content.decode()


def test_the_member_page_shows_data_seals_and_history(world, viewer_client):
    response = viewer_client.get(reverse("console:member", args=[world.member.pk]))
    body = response.content.decode()
    assert world.member.legal_name in body and world.member.domains[0] in body
    assert world.member.contact_email in body
    assert f"/verify/{world.seal.public_id}" in body
    assert "Issued" in body
    assert "Suspend" not in body  # a viewer gets no action links


def test_the_audit_log_filters_and_exports_csv(world, viewer_client):
    seal_suspend(seal=world.seal, reason="secret reason", actor='=HYPERLINK("x")')
    url = reverse("console:audit")
    page = viewer_client.get(url, {"kind": "suspended"})
    assert [e.kind for e in page.context["page"].items] == ["suspended"]
    export = viewer_client.get(reverse("console:audit-csv"), {"kind": "suspended"})
    assert export.status_code == 200 and export["Content-Type"].startswith("text/csv")
    assert "attachment" in export["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(export.content.decode())))
    assert rows[0][:4] == ["seq", "occurred_at", "kind", "actor"]
    assert len(rows) == 2
    assert rows[1][2] == "suspended"
    assert rows[1][3].startswith("'=")  # a spreadsheet must not run it as a formula
    assert "secret reason" not in export.content.decode()  # private payloads stay out
    everything = viewer_client.get(reverse("console:audit-csv"))
    assert len(list(csv.reader(io.StringIO(everything.content.decode())))) == 1 + (
        SealEvent.objects.filter(issuer=world.issuer).count()
    )


@pytest.mark.parametrize("query", [{"date_from": "2030-01-02", "date_to": "2030-01-01"}])
def test_the_audit_log_refuses_a_reversed_range(world, viewer_client, query):
    response = viewer_client.get(reverse("console:audit"), query)
    assert response.status_code == 400 and response.context["page"].items == []
    assert viewer_client.get(reverse("console:audit-csv"), query).status_code == 400


def test_the_chart_axis_counts_in_whole_numbers():
    from datetime import date

    from console.charts import daily_views_svg
    from seals.selectors import DayCounts, StatCounts, StatsSeries

    days = [DayCounts(date=date(2030, 1, d), impressions=d % 3) for d in range(1, 31)]
    series = StatsSeries(
        date_from=days[0].date, date_to=days[-1].date, days=days, totals=StatCounts()
    )
    svg = str(daily_views_svg(series))
    labels = re.findall(r'text-anchor="end">(\d+)<', svg)
    assert labels == ["0", "1", "2", "3", "4"]
    # Five weekly date labels; today's, on the right edge, ends there rather than spilling over it.
    assert svg.count('text-anchor="middle"') == 4
    assert re.search(r'<text x="710" y="194" text-anchor="end">30 Jan</text>', svg)


@pytest.mark.parametrize("name", ["console:members", "console:audit", "console:account-log"])
def test_a_page_link_that_is_not_valid_shows_the_first_page_and_says_so(world, viewer_client, name):
    first = viewer_client.get(reverse(name))
    stale = viewer_client.get(reverse(name), {"cursor": "not-a-cursor"})
    assert stale.status_code == 200
    assert stale.context["error"] == "This page link is not valid; start from the first page."
    assert stale.context["page"].items == first.context["page"].items
    assert first.context["error"] == ""
