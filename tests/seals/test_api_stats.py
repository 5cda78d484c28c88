"""Statistics through the API: per seal and issuer-wide, per day, scoped to the calling issuer."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine

from issuers.services import programme_create
from privacy.services import member_restrict
from seals import stats
from seals.models import DailyStat
from tests.api_support import Api, problem
from tests.factories import MemberFactory, award

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_stat_counters")]

NOW = datetime(2030, 3, 31, 15, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def seal_of(api: Api, **kwargs):
    return award(MemberFactory(issuer=api.issuer), **kwargs)


def stat(seal, day: str, impressions: int = 0, views: int = 0, misuse: int = 0) -> None:
    DailyStat.objects.create(
        seal=seal,
        day=date.fromisoformat(day),
        impressions=impressions,
        verification_views=views,
        misuse_hits=misuse,
    )


def test_it_lists_a_seals_counts_per_day_with_totals(api):
    seal = seal_of(api)
    stat(seal, "2030-03-01", impressions=10, views=2, misuse=1)
    stat(seal, "2030-03-03", impressions=5)
    stat(seal, "2030-03-04", impressions=99)  # after `to`
    stat(seal_of(api), "2030-03-01", impressions=1000)  # another seal

    response = api.get(
        f"/seals/{seal.public_id}/stats", **{"from": "2030-03-01", "to": "2030-03-03"}
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["seal"], body["programme"], body["counted"]) == (seal.public_id, "member", True)
    assert (body["from"], body["to"]) == ("2030-03-01", "2030-03-03")
    assert body["days"] == [
        {"date": "2030-03-01", "impressions": 10, "verifications": 2, "misuse_hits": 1},
        {"date": "2030-03-02", "impressions": 0, "verifications": 0, "misuse_hits": 0},
        {"date": "2030-03-03", "impressions": 5, "verifications": 0, "misuse_hits": 0},
    ]
    assert body["totals"] == {"impressions": 15, "verifications": 2, "misuse_hits": 1}


def test_the_default_window_is_the_30_days_ending_today(api):
    seal = seal_of(api)
    stat(seal, "2030-03-01", impressions=7)  # 31 days ago: outside
    stat(seal, "2030-03-02", impressions=3)
    stat(seal, "2030-03-31", impressions=4)

    body = api.get(f"/seals/{seal.public_id}/stats").json()

    assert (body["from"], body["to"], len(body["days"])) == ("2030-03-02", "2030-03-31", 30)
    assert body["totals"]["impressions"] == 7


def test_from_alone_runs_to_today(api):
    seal = seal_of(api)

    body = api.get(f"/seals/{seal.public_id}/stats", **{"from": "2029-04-01"}).json()

    assert (body["from"], body["to"], len(body["days"])) == ("2029-04-01", "2030-03-31", 365)


@pytest.mark.parametrize(
    ("params", "field", "fragment"),
    [
        ({"from": "2030-02-30"}, "from", "wrong format"),
        ({"to": "31/03/2030"}, "to", "YYYY-MM-DD"),
        ({"from": "2030-03-01T00:00:00Z"}, "from", "wrong format"),
        ({"from": "2030-03-10", "to": "2030-03-09"}, "from", "after 'to'"),
        ({"from": "2030-04-01"}, "from", "after 'to'"),  # tomorrow, to: today
        ({"from": "2029-01-01", "to": "2030-01-02"}, "to", "at most 366 days"),
    ],
)
def test_it_refuses_bad_dates_with_a_problem(api, params, field, fragment):
    seal = seal_of(api)

    response = api.get(f"/seals/{seal.public_id}/stats", **params)

    assert response.status_code == 400
    body = problem(response)
    assert body["code"] == "validation_error"
    assert [e["field"] for e in body["errors"]] == [field]
    assert fragment in body["errors"][0]["message"]


def test_a_to_at_the_start_of_the_calendar_is_not_a_server_error(api):
    seal = seal_of(api)

    response = api.get(f"/seals/{seal.public_id}/stats", to="0001-01-02")

    assert response.status_code == 200
    assert response.json()["from"] == "0001-01-01"


def test_another_issuers_seal_is_not_found(api, other_api):
    seal = seal_of(api)
    stat(seal, "2030-03-30", impressions=5)

    for path in (f"/seals/{seal.public_id}/stats", "/seals/AAAAAAAAAAAAAAAAAAAAAA/stats"):
        response = other_api.get(path)
        assert response.status_code == 404
        assert problem(response)["code"] == "not_found"
    assert other_api.get("/stats").json()["totals"]["impressions"] == 0


def test_a_read_only_key_is_enough(api):
    seal = seal_of(api)
    reader = Api(api.issuer, scopes=["read"])

    assert reader.get(f"/seals/{seal.public_id}/stats").status_code == 200
    assert reader.get("/stats").status_code == 200


def test_no_key_is_401(client):
    response = client.get("/api/v1/stats")

    assert response.status_code == 401
    assert problem(response)["code"] in ("not_authenticated", "authentication_failed")


def test_issuer_totals_sum_every_seal_of_the_issuer_only(api, other_api):
    gold = programme_create(issuer=api.issuer, slug="gold", name="Gold")
    one, two = seal_of(api), seal_of(api, programme=gold)
    stat(one, "2030-03-30", impressions=10, views=1)
    stat(two, "2030-03-30", impressions=5, misuse=2)
    stat(two, "2030-03-31", views=4)
    stat(award(MemberFactory(issuer=other_api.issuer)), "2030-03-30", impressions=1000)

    body = api.get("/stats", **{"from": "2030-03-30"}).json()
    gold_only = api.get("/stats", **{"from": "2030-03-30", "programme": "gold"}).json()

    assert body["programme"] is None
    assert body["days"] == [
        {"date": "2030-03-30", "impressions": 15, "verifications": 1, "misuse_hits": 2},
        {"date": "2030-03-31", "impressions": 0, "verifications": 4, "misuse_hits": 0},
    ]
    assert body["totals"] == {"impressions": 15, "verifications": 5, "misuse_hits": 2}
    assert gold_only["programme"] == "gold"
    assert gold_only["totals"] == {"impressions": 5, "verifications": 4, "misuse_hits": 2}


def test_issuer_totals_refuse_an_unknown_programme_and_bad_dates(api, other_api):
    programme_create(issuer=other_api.issuer, slug="theirs", name="Theirs")

    unknown = api.get("/stats", programme="theirs")
    backwards = api.get("/stats", **{"from": "2030-03-31", "to": "2030-03-01"})

    assert unknown.status_code == 400
    assert [e["field"] for e in problem(unknown)["errors"]] == ["programme"]
    assert backwards.status_code == 400
    assert [e["field"] for e in problem(backwards)["errors"]] == ["from"]


def test_a_restricted_members_views_are_never_listed(api):
    kept, restricted = seal_of(api), seal_of(api)
    member_restrict(member=restricted.member, restricted=True, actor="test")
    today = NOW.date()
    for seal in (kept, restricted):
        stats.count(seal.public_id, stats.IMPRESSION, stats.VIEW, day=today)
    stats.flush_counts(now=NOW)

    kept_body = api.get(f"/seals/{kept.public_id}/stats").json()
    restricted_body = api.get(f"/seals/{restricted.public_id}/stats").json()

    assert (kept_body["counted"], kept_body["totals"]["impressions"]) == (True, 1)
    assert (restricted_body["counted"], restricted_body["totals"]["impressions"]) == (False, 0)
    assert api.get("/stats").json()["totals"] == {
        "impressions": 1,
        "verifications": 1,
        "misuse_hits": 0,
    }
