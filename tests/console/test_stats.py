"""The statistics page: per issuer, per programme and per seal, by day, as the API counts them;
a chart, the numbers in a table, the same numbers as CSV; another issuer's seal is a 404."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import time_machine
from django.urls import reverse

from issuers.models import Programme
from seals.models import DailyStat
from tests.factories import MemberFactory, award

TODAY = date(2026, 11, 20)


def seed(world):
    other_programme = Programme.objects.create(
        issuer=world.issuer, slug="pharmacy", name="Licensed Pharmacy"
    )
    second = award(MemberFactory(issuer=world.issuer), programme=other_programme)
    DailyStat.objects.create(seal=world.seal, day=TODAY, impressions=40, verification_views=7)
    DailyStat.objects.create(seal=world.seal, day=TODAY - timedelta(days=3), misuse_hits=2)
    DailyStat.objects.create(seal=second, day=TODAY, impressions=5)
    DailyStat.objects.create(seal=world.other_seal, day=TODAY, impressions=999)
    return second, other_programme


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode())))


@time_machine.travel("2026-11-20 12:00Z", tick=False)
def test_the_issuers_statistics_by_day_with_chart_and_table(world, viewer_client):
    seed(world)
    response = viewer_client.get(reverse("console:stats"))
    assert response.status_code == 200
    series = response.context["series"]
    assert (series.date_from, series.date_to) == (TODAY - timedelta(days=29), TODAY)
    assert series.totals.impressions == 45 and series.totals.misuse_hits == 2
    html = response.content.decode()
    assert "<svg" in html and "<polyline" in html and "<table>" in html
    assert "999" not in html


@time_machine.travel("2026-11-20 12:00Z", tick=False)
def test_one_programme_or_one_seal(world, viewer_client):
    second, programme = seed(world)
    by_programme = viewer_client.get(reverse("console:stats"), {"programme": programme.slug})
    assert by_programme.context["series"].totals.impressions == 5
    by_seal = viewer_client.get(reverse("console:stats"), {"seal": world.seal.public_id})
    assert by_seal.context["series"].totals.impressions == 40
    assert by_seal.context["subject"].seal == world.seal
    other_seal = viewer_client.get(reverse("console:stats"), {"seal": second.public_id})
    assert other_seal.context["series"].totals.impressions == 5


@time_machine.travel("2026-11-20 12:00Z", tick=False)
def test_the_csv_holds_the_same_numbers(world, viewer_client):
    seed(world)
    query = {"seal": world.seal.public_id, "date_from": "2026-11-16", "date_to": "2026-11-20"}
    response = viewer_client.get(reverse("console:stats-csv"), query)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert (
        f"stats-{world.seal.public_id}-2026-11-16-2026-11-20.csv"
        in (response["Content-Disposition"])
    )
    rows = csv_rows(response)
    assert rows[0] == ["date", "impressions", "verifications", "misuse_hits"]
    assert rows[1:] == [
        ["2026-11-16", "0", "0", "0"],
        ["2026-11-17", "0", "0", "2"],
        ["2026-11-18", "0", "0", "0"],
        ["2026-11-19", "0", "0", "0"],
        ["2026-11-20", "40", "7", "0"],
    ]


def test_a_window_the_api_refuses_is_refused_here_too(world, viewer_client):
    swapped = {"date_from": "2026-11-20", "date_to": "2026-11-01"}
    page = viewer_client.get(reverse("console:stats"), swapped)
    assert page.status_code == 400 and "swap them" in page.content.decode()
    too_long = {"date_from": "2024-01-01", "date_to": "2026-11-01"}
    response = viewer_client.get(reverse("console:stats-csv"), too_long)
    assert response.status_code == 400 and "at most 366 days" in response.content.decode()


def test_another_issuers_seal_is_not_found_nor_its_programme_offered(world, viewer_client):
    query = {"seal": world.other_seal.public_id}
    assert viewer_client.get(reverse("console:stats"), query).status_code == 404
    assert viewer_client.get(reverse("console:stats-csv"), query).status_code == 404
    theirs = Programme.objects.create(issuer=world.other_issuer, slug="theirs", name="Theirs")
    page = viewer_client.get(reverse("console:stats"), {"programme": theirs.slug})
    assert page.status_code == 400 and "Theirs" not in page.content.decode()
    assert "Select a valid choice" in page.content.decode()
