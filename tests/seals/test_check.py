""" "Check a website": ``GET /check?domain=<host>`` answers which seals are valid for it now."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from privacy.services import member_restrict
from seals import selectors
from tests.factories import IssuerFactory, MemberFactory, award
from tests.seals.public_helpers import seal_in

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def _check(client, domain: str, **headers):
    return client.get("/check", {"domain": domain, "format": "json"}, **headers)


def _body(client, domain: str) -> dict:
    response = _check(client, domain)
    assert response.status_code == 200, response.content[:300]
    return json.loads(response.content)


def test_host_candidates_are_the_host_and_its_parents():
    assert selectors.host_candidates("a.shop.crumb.example") == [
        "a.shop.crumb.example",
        "shop.crumb.example",
        "crumb.example",
    ]


def test_none_is_a_clear_answer(client):
    body = _body(client, "nobody.example")
    assert body == {**body, "domain": "nobody.example", "valid": False, "results": []}
    html = client.get("/check", {"domain": "nobody.example"})
    assert html.status_code == 200
    assert "No issuer lists nobody.example as a member" in html.content.decode()


def test_a_valid_seal_answers_valid_with_its_issuer_member_and_link(client):
    issuer = IssuerFactory(name="Guild of Bakers")
    member = MemberFactory(issuer=issuer, display_name="Crumb & Co", domains=["crumb.example"])
    seal = award(member)
    for asked in ("crumb.example", "Shop.CRUMB.example", "https://www.crumb.example/about"):
        body = _body(client, asked)
        assert body["valid"] is True, asked
        (result,) = body["results"]
        assert result["issuer"]["slug"] == issuer.slug
        assert result["issuer"]["register"] == f"/issuers/{issuer.slug}/register"
        assert result["member"]["display_name"] == "Crumb & Co"
        assert result["seals"][0]["seal_id"] == seal.public_id
        assert result["seals"][0]["status"] == "active"
    html = client.get("/check", {"domain": "crumb.example"}).content.decode()
    assert "crumb.example holds a valid seal" in html
    assert f'href="/verify/{seal.public_id}"' in html
    assert f'href="/issuers/{issuer.slug}/register"' in html


def test_a_lookalike_host_is_not_a_subdomain(client):
    award(MemberFactory(domains=["crumb.example"]))
    assert _body(client, "notcrumb.example")["results"] == []
    assert _body(client, "crumb.example.evil.example")["results"] == []


@pytest.mark.parametrize("status", ["revoked", "suspended", "expired"])
def test_a_seal_that_is_no_longer_valid_says_so(client, status):
    seal_in(status, MemberFactory(domains=["gone.example"]))
    body = _body(client, "gone.example")
    assert body["valid"] is False
    assert body["results"][0]["seals"][0]["status"] == status
    html = client.get("/check", {"domain": "gone.example"}).content.decode()
    assert "gone.example holds no valid seal" in html and "No longer valid" in html


def test_an_expiry_shows_at_once_without_any_worker(client):
    with time_machine.travel(NOON, tick=False):
        award(MemberFactory(domains=["soon.example"]), days=1)
        assert _body(client, "soon.example")["valid"] is True
    with time_machine.travel(NOON + timedelta(days=1), tick=False):
        body = _body(client, "soon.example")
    assert body["valid"] is False and body["results"][0]["seals"][0]["status"] == "expired"


def test_every_issuer_vouching_for_the_host_is_listed(client):
    award(MemberFactory(issuer=IssuerFactory(name="B Guild"), domains=["both.example"]))
    seal_in(
        "revoked", MemberFactory(issuer=IssuerFactory(name="A Guild"), domains=["both.example"])
    )
    body = _body(client, "both.example")
    assert [r["issuer"]["name"] for r in body["results"]] == ["A Guild", "B Guild"]
    assert [r["valid"] for r in body["results"]] == [False, True]
    assert body["valid"] is True


def test_restricted_members_are_left_out(client):
    seal = award(MemberFactory(domains=["quiet.example"]))
    member_restrict(member=seal.member, restricted=True, actor="test")
    assert _body(client, "quiet.example")["results"] == []


@pytest.mark.parametrize("bad", ["not a host", "http://", "localhost", "1.2.3.4", "x" * 300])
def test_a_malformed_host_is_a_clear_400(client, bad):
    response = _check(client, bad)
    assert response.status_code == 400
    body = json.loads(response.content)
    assert body["error"] == "invalid_domain" and "not a website address" in body["detail"]
    html = client.get("/check", {"domain": bad})
    assert html.status_code == 400 and "not a website address" in html.content.decode()


def test_no_domain_shows_the_form_or_says_what_is_missing(client):
    html = client.get("/check")
    assert html.status_code == 200 and 'name="domain"' in html.content.decode()
    response = client.get("/check?format=json")
    assert response.status_code == 400
    assert json.loads(response.content)["error"] == "missing_domain"


def test_accept_json_gets_json_and_the_answer_varies_on_accept(client):
    award(MemberFactory(domains=["crumb.example"]))
    response = client.get("/check", {"domain": "crumb.example"}, HTTP_ACCEPT="application/json")
    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content)["valid"] is True
    assert "Accept" in response["Vary"]
    html = client.get("/check", {"domain": "crumb.example"}, HTTP_ACCEPT="text/html,*/*")
    assert html["Content-Type"].startswith("text/html")


def test_no_cookie_no_script_and_no_contact_data(client):
    award(MemberFactory(domains=["crumb.example"]))
    for params in ({"domain": "crumb.example"}, {"domain": "crumb.example", "format": "json"}):
        response = client.get("/check", params)
        assert not response.cookies and not response.has_header("Set-Cookie")
        text = response.content.decode()
        assert "Ada Contact" not in text and "@member.example" not in text
        assert "<script" not in text
