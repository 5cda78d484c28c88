"""The public register of an issuer: ``GET /issuers/<slug>/register`` (HTML, JSON, CSV)."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from issuers.models import Member
from privacy import services as privacy
from privacy.services import member_restrict
from seals import selectors
from seals.register import SEARCH_CSP, decode_cursor, encode_cursor
from seals.registry import member_update
from tests.factories import IssuerFactory, MemberFactory, award
from tests.seals.public_helpers import seal_in

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def _json(client, slug: str, **params) -> dict:
    response = client.get(f"/issuers/{slug}/register", {"format": "json", **params})
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/json"
    return json.loads(response.content)


def _refs(client, slug: str, **params) -> list[str]:
    return [row["external_ref"] for row in _json(client, slug, **params)["results"]]


@pytest.fixture
def register():
    issuer = IssuerFactory(name="Guild of Bakers")
    crumb = MemberFactory(
        issuer=issuer,
        external_ref="GB-0042",
        legal_name="Crumb & Co Ltd",
        display_name="Crumb & Co",
        domains=["crumb.example"],
        country="GB",
    )
    rye = MemberFactory(
        issuer=issuer,
        external_ref="FR-0007",
        legal_name="Boulangerie du Seigle SARL",
        display_name="Le Seigle",
        domains=["seigle.example"],
        country="FR",
    )
    award(crumb)
    award(rye)
    return issuer


# --- search ---------------------------------------------------------------------------------
def test_it_lists_the_members_holding_a_seal_in_name_order(client, register):
    MemberFactory(issuer=register, external_ref="NO-SEAL", legal_name="Aardvark Ltd")
    assert _refs(client, register.slug) == ["GB-0042", "FR-0007"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"q": "crumb"}, ["GB-0042"]),  # display name, any case
        ({"q": "seigle sarl"}, ["FR-0007"]),  # legal name only
        ({"q": "fr-0007"}, ["FR-0007"]),  # membership number, exact, any case
        ({"q": "FR-000"}, []),  # a part of a number is not a number
        ({"domain": "crumb.example"}, ["GB-0042"]),
        ({"domain": "https://Shop.Crumb.example/about"}, ["GB-0042"]),  # subdomains count
        ({"domain": "notcrumb.example"}, []),
        ({"country": "fr"}, ["FR-0007"]),
        ({"country": "GB", "q": "seigle"}, []),  # all keys must match
    ],
)
def test_it_searches_by_each_key(client, register, params, expected):
    assert _refs(client, register.slug, **params) == expected


def test_bad_search_input_gets_a_clear_400_and_lists_nothing(client, register):
    for params, field in (
        ({"country": "France"}, "country"),
        ({"domain": "not a host"}, "domain"),
        ({"cursor": "forged"}, "cursor"),
        ({"limit": "0"}, "limit"),
        ({"q": "x" * 101}, "q"),
    ):
        response = client.get(f"/issuers/{register.slug}/register", {"format": "json", **params})
        assert response.status_code == 400, params
        body = json.loads(response.content)
        assert body["field"] == field and body["detail"]
        assert "results" not in body
    # As in the console and the API: an unassigned code is refused, a usual mistake named.
    for value, says in (("XX", "give two letters"), ("uk", "that country's code is GB")):
        response = client.get(
            f"/issuers/{register.slug}/register", {"format": "json", "country": value}
        )
        assert response.status_code == 400, value
        assert says in json.loads(response.content)["detail"], value
    html = client.get(f"/issuers/{register.slug}/register", {"domain": "not a host"})
    assert html.status_code == 400
    assert "is not a website address" in html.content.decode()
    assert "GB-0042" not in html.content.decode()
    assert client.get(f"/issuers/{register.slug}/register?format=xml").status_code == 400


def test_an_unknown_issuer_is_a_404(client):
    assert client.get("/issuers/no-such-issuer/register").status_code == 404


def test_another_issuers_members_are_never_in_this_register(client, register):
    other = IssuerFactory()
    award(MemberFactory(issuer=other, external_ref="GB-0042", legal_name="Crumb & Co Ltd"))
    award(MemberFactory(issuer=other, external_ref="X-1", legal_name="Elsewhere Ltd"))
    assert _refs(client, register.slug) == ["GB-0042", "FR-0007"]
    assert _refs(client, register.slug, q="Elsewhere") == []
    assert _refs(client, other.slug) == ["GB-0042", "X-1"]


# --- who is listed --------------------------------------------------------------------------
def test_restricted_and_erased_members_are_never_listed(client, register):
    restricted = MemberFactory(issuer=register, external_ref="R-1", register_listed=True)
    erased = MemberFactory(issuer=register, external_ref="E-1", register_listed=True)
    award(restricted)
    award(erased)
    member_restrict(member=restricted, restricted=True, actor="test")
    privacy.member_erase(member=erased, corporate=False, actor="test")
    refs = _refs(client, register.slug)
    assert "R-1" not in refs and "E-1" not in refs
    assert _refs(client, register.slug, q="R-1") == []


def test_the_member_switch_overrides_the_issuer_default(client, register):
    crumb = Member.objects.get(issuer=register, external_ref="GB-0042")
    member_update(member=crumb, register_listed=False)
    assert _refs(client, register.slug) == ["FR-0007"]
    # The issuer asks its members to opt in: only those who did are listed.
    register.register_lists_members = False
    register.save()
    assert _refs(client, register.slug) == []
    rye = Member.objects.get(issuer=register, external_ref="FR-0007")
    member_update(member=rye, register_listed=True)
    assert _refs(client, register.slug) == ["FR-0007"]
    member_update(member=crumb, register_listed=None)  # follows the issuer again: out
    assert _refs(client, register.slug) == ["FR-0007"]


def test_the_listing_switches_are_editable_through_the_api(api, client):
    member = api.post(
        "/members", {"external_ref": "A-1", "legal_name": "Api Ltd", "register_listed": False}
    ).json()
    assert member["register_listed"] is False
    response = api.patch(f"/members/{member['id']}", {"register_listed": None})
    assert response.status_code == 200 and response.json()["register_listed"] is None
    assert api.get("/issuer").json()["register_lists_members"] is True
    response = api.patch("/issuer", {"register_lists_members": False})
    assert response.status_code == 200 and response.json()["register_lists_members"] is False
    api.issuer.refresh_from_db()
    assert api.issuer.register_lists_members is False
    assert api.patch("/members/999999999", {"register_listed": True}).status_code == 404


# --- what is shown --------------------------------------------------------------------------
def test_the_status_is_the_effective_status_now_without_any_worker(client):
    with time_machine.travel(NOON, tick=False):
        seal = seal_in("active")
        slug = seal.issuer.slug
        assert _json(client, slug)["results"][0]["seals"][0]["status"] == "active"
    # A year and a day later: nothing swept it, the stored status still says active.
    with time_machine.travel(NOON + timedelta(days=366), tick=False):
        seal.refresh_from_db()
        assert seal.status == "active"
        shown = _json(client, slug)["results"][0]["seals"][0]
        assert (shown["status"], shown["valid"]) == ("expired", False)
        html = client.get(f"/issuers/{slug}/register").content.decode()
        assert "status-expired" in html and "Expired" in html


def test_each_programme_shows_the_newest_seal_only(client):
    member = MemberFactory()
    old = seal_in("revoked", member)
    new = award(member)
    seals = _json(client, member.issuer.slug)["results"][0]["seals"]
    assert [s["seal_id"] for s in seals] == [new.public_id]
    assert (
        old.public_id not in client.get(f"/issuers/{member.issuer.slug}/register").content.decode()
    )


def test_json_shape_has_corporate_fields_and_links_only(client, register):
    body = _json(client, register.slug, q="crumb")
    assert set(body) == {"issuer", "checked_at", "next", "results"}
    assert body["issuer"] == {"slug": register.slug, "name": "Guild of Bakers"}
    row = body["results"][0]
    assert set(row) == {"external_ref", "display_name", "legal_name", "domains", "country", "seals"}
    assert row["domains"] == ["crumb.example"] and row["country"] == "GB"
    seal = row["seals"][0]
    assert set(seal) == {"seal_id", "programme", "status", "valid", "verification_page"}
    assert seal["verification_page"].endswith(f"/verify/{seal['seal_id']}")
    assert seal["programme"]["slug"] == "member"


def test_no_contact_data_is_read_or_shown(client, register):
    answers = [
        client.get(f"/issuers/{register.slug}/register", {"format": fmt}).content.decode()
        for fmt in ("html", "json", "csv")
    ]
    for text in answers:
        assert "Ada Contact" not in text and "@member.example" not in text
    with CaptureQueriesContext(connection) as queries:
        client.get(f"/issuers/{register.slug}/register", {"format": "json"})
    member_queries = [q["sql"] for q in queries if 'FROM "issuers_member"' in q["sql"]]
    assert member_queries and not any("contact" in sql for sql in member_queries)


def test_csv_has_a_header_one_row_per_seal_and_neutralised_formulas(client):
    issuer = IssuerFactory(slug="csv-guild")
    award(MemberFactory(issuer=issuer, legal_name="=HYPERLINK(1)", display_name="=cmd"))
    response = client.get("/issuers/csv-guild/register?format=csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="csv-guild-register.csv"' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:3] == ["external_ref", "display_name", "legal_name"]
    assert len(rows) == 2
    assert rows[1][1:3] == ["'=cmd", "'=HYPERLINK(1)"]
    assert rows[1][7:9] == ["active", "true"]


def test_cursor_paging_walks_every_row_once_in_every_format(client):
    issuer = IssuerFactory()
    # Equal display names: the id breaks the tie, so no row is skipped or repeated.
    for n in range(7):
        award(MemberFactory(issuer=issuer, external_ref=f"P-{n}", display_name="Same name"))
    seen: list[str] = []
    url = f"/issuers/{issuer.slug}/register?format=json&limit=3"
    while url:
        body = json.loads(client.get(url).content)
        assert len(body["results"]) <= 3
        seen += [r["external_ref"] for r in body["results"]]
        url = body["next"]
    assert sorted(seen) == [f"P-{n}" for n in range(7)] and len(seen) == 7
    first = client.get(f"/issuers/{issuer.slug}/register?format=csv&limit=5")
    assert 'rel="next"' in first["Link"] and "format=csv" in first["Link"]
    html = client.get(f"/issuers/{issuer.slug}/register?limit=5").content.decode()
    assert 'rel="next"' in html


def test_the_cursor_round_trips_and_refuses_forgeries():
    cursor = selectors.RegisterCursor("Crumb & Co ü", 42)
    assert decode_cursor(encode_cursor(cursor)) == cursor
    for forged in ("", "!!!", "WzEsMl0", "WyJhIiwgLTFd", "WyJhIiwgdHJ1ZV0"):
        with pytest.raises(selectors.InvalidInputError):
            decode_cursor(forged)


# --- headers --------------------------------------------------------------------------------
def test_no_page_sets_a_cookie_and_html_has_the_verification_pages_policy(client, register):
    for fmt in ("html", "json", "csv"):
        response = client.get(f"/issuers/{register.slug}/register", {"format": fmt})
        assert response.status_code == 200
        assert not response.cookies and not response.has_header("Set-Cookie")
    html = client.get(f"/issuers/{register.slug}/register")
    assert html["Content-Security-Policy"] == SEARCH_CSP
    assert "form-action 'self'" in SEARCH_CSP and "default-src 'self'" in SEARCH_CSP
    assert "<script" not in html.content.decode()
    assert html["Cache-Control"] == "private, no-cache"
    assert 'href="/check"' in html.content.decode()


def test_open_data_is_cacheable_but_never_past_the_next_expiry(client):
    with time_machine.travel(NOON, tick=False):
        member = MemberFactory()
        award(member, start_days=-10, days=5)  # expired: no change ahead
        award(MemberFactory(issuer=member.issuer), start_days=0, days=1)
        response = client.get(f"/issuers/{member.issuer.slug}/register?format=json")
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "max-age=45" in response["Cache-Control"]
    with time_machine.travel(NOON + timedelta(days=1) - timedelta(seconds=10), tick=False):
        response = client.get(f"/issuers/{member.issuer.slug}/register?format=json")
    assert "max-age=9," in response["Cache-Control"]


def test_post_is_refused(client, register):
    assert client.post(f"/issuers/{register.slug}/register").status_code == 405


@pytest.mark.usefixtures("one_rate_window")
def test_it_is_rate_limited_per_network(client, register, settings):
    settings.PUBLIC_RATE_LIMITS = {**settings.PUBLIC_RATE_LIMITS, "search": 2}
    codes = [client.get(f"/issuers/{register.slug}/register").status_code for _ in range(3)]
    assert codes == [200, 200, 429]


def test_the_verification_page_links_to_the_register_and_the_check(client):
    seal = seal_in("active")
    html = client.get(f"/verify/{seal.public_id}").content.decode()
    assert f'href="/issuers/{seal.issuer.slug}/register"' in html
    assert 'href="/check"' in html


@pytest.mark.parametrize(
    ("lang", "title", "error"),
    [
        ("fr", "Registre public de Guild of Bakers", "n'est pas un code de pays"),
        ("de", "Öffentliches Register von Guild of Bakers", "ist kein Ländercode"),
        ("es", "Registro público de Guild of Bakers", "no es un código de país"),
        ("ar", "السجل العام لـ Guild of Bakers", "ليس رمز بلد"),
    ],
)
def test_the_page_and_its_errors_speak_the_visitors_language(client, register, lang, title, error):
    page = client.get(f"/issuers/{register.slug}/register", {"lang": lang})
    assert page["Content-Language"] == lang
    assert title in page.content.decode().replace("&#x27;", "'")
    refused = client.get(f"/issuers/{register.slug}/register", {"lang": lang, "country": "XYZ"})
    assert refused.status_code == 400
    assert error in refused.content.decode().replace("&#x27;", "'")


def test_head_answers_as_get_without_a_body(client, register):
    response = client.head(f"/issuers/{register.slug}/register?format=json")
    assert response.status_code == 200 and response.content == b""
    assert response["Content-Type"] == "application/json"
