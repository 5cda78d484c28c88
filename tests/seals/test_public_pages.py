"""GET /verify/<id>, /verify/<id>.json and /embed/<id>."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from seals.models import SealEvent
from tests.factories import MemberFactory, award
from tests.seals.public_helpers import STATUSES, seal_in

pytestmark = pytest.mark.django_db

WORDS = {
    "active": "Valid",
    "pending": "Not yet valid",
    "expired": "Expired",
    "suspended": "Suspended",
    "revoked": "Revoked",
}


@pytest.mark.parametrize("status", STATUSES)
def test_each_status_has_its_own_page(client, status):
    seal = seal_in(status)
    response = client.get(f"/verify/{seal.public_id}")
    html = response.content.decode()
    assert response.status_code == 200
    assert f'class="status status-{status}"' in html
    assert f"<strong>{WORDS[status]}</strong>" in html
    assert seal.member.legal_name in html
    assert "shop.example" in html
    assert seal.issuer.chain_head in html or "chain" in html


def test_the_page_writes_an_internationalised_domain_in_unicode(client):
    seal = seal_in("active", MemberFactory(domains=["xn--bckerei-5wa.example"]))
    html = client.get(f"/verify/{seal.public_id}").content.decode()
    assert "bäckerei.example" in html
    assert "xn--bckerei-5wa" not in html


def test_the_page_shows_history_kinds_and_dates_but_never_reasons(client):
    seal = seal_in("suspended")
    html = client.get(f"/verify/{seal.public_id}").content.decode()
    assert "Issued" in html
    assert "Suspended" in html
    assert "audit pending" not in html  # the reason lives in private_data
    assert "contact" not in html.lower() or "Ada Contact" not in html


def test_page_security_headers(client):
    seal = seal_in("active")
    response = client.get(f"/verify/{seal.public_id}")
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert response["Referrer-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert '<html lang="en" dir="ltr">' in response.content.decode()
    assert not response.cookies
    assert "Cookie" not in response.get("Vary", "")


def test_the_page_loads_nothing_from_another_host(client):
    seal = seal_in("active")
    html = client.get(f"/verify/{seal.public_id}").content.decode()
    assert "<script" not in html
    assert "<link" not in html
    for src in re.findall(r'src="([^"]*)"', html):
        assert src.startswith(("data:", "/")), src
    assert "@import" not in html and "url(" not in html


def test_the_page_is_accessible_in_structure(client):
    seal = seal_in("active")
    html = client.get(f"/verify/{seal.public_id}").content.decode()
    assert "<main" in html and 'role="banner"' in html and 'role="contentinfo"' in html
    assert html.count("<h1>") == 1
    assert 'name="viewport"' in html


def test_a_hostile_name_is_escaped_in_the_page_and_the_alt_text(client):
    hostile = '<script>alert("x")</script>'
    seal = award(MemberFactory(display_name=hostile, legal_name=hostile))
    html = client.get(f"/verify/{seal.public_id}").content.decode()
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    embed = client.get(f"/embed/{seal.public_id}?format=text").content.decode()
    alt = re.search(r'alt="([^"]*)"', embed).group(1)
    assert "<" not in alt and "&lt;script&gt;" in alt


def test_a_foreign_referer_gets_a_prominent_warning_naming_the_host(client):
    seal = seal_in("active")
    html = client.get(
        f"/verify/{seal.public_id}", HTTP_REFERER="https://copycat.example/about"
    ).content.decode()
    assert 'role="alert"' in html
    assert "copycat.example" in html


def test_the_members_own_site_and_its_subdomains_get_no_warning(client):
    seal = seal_in("active")
    for referer in ("https://shop.example/", "https://www.shop.example/x", ""):
        html = client.get(f"/verify/{seal.public_id}", HTTP_REFERER=referer).content.decode()
        assert 'role="alert"' not in html


@pytest.mark.parametrize(
    ("referer", "warned"),
    [
        ("http://127.0.0.1:8000/verify", None),  # this service (PUBLIC_BASE_URL)
        ("http://testserver/embed/x", None),  # this service, as the request reached it
        ("http://127.0.0.1:9000/shop", "127.0.0.1:9000"),  # another site on our host
        ("https://127.0.0.1/", "127.0.0.1:443"),
    ],
)
def test_the_copied_seal_check_tells_this_service_by_host_and_port(client, referer, warned):
    seal = seal_in("active")

    html = client.get(f"/verify/{seal.public_id}", HTTP_REFERER=referer).content.decode()

    if warned is None:
        assert 'role="alert"' not in html
    else:
        assert 'role="alert"' in html and warned in html


def test_unknown_id_gets_a_neutral_404_page(client):
    response = client.get("/verify/AAAAAAAAAAAAAAAAAAAAAA")
    assert response.status_code == 404
    assert "Seal not found" in response.content.decode()
    assert not response.cookies
    assert client.get("/verify/not-a-seal-id").status_code == 404


def test_json_has_the_documented_shape(client):
    seal = seal_in("active")
    response = client.get(f"/verify/{seal.public_id}.json")
    assert response["Content-Type"] == "application/json"
    assert response["Access-Control-Allow-Origin"] == "*"
    data = response.json()
    assert set(data) == {
        "seal_id",
        "status",
        "valid_from",
        "expires_at",
        "status_changed_at",
        "next_change_at",
        "checked_at",
        "issuer",
        "programme",
        "member",
        "history",
        "links",
        "credential_status",
        "status_token",
        "verdict",
    }
    assert data["seal_id"] == seal.public_id
    assert data["status"] == "active"
    assert data["verdict"] == {
        "verdict": "valid",
        "reason": None,
        "detail": "The seal is valid.",
        "last_confirmed_valid_at": None,
    }
    assert set(data["member"]) == {"display_name", "legal_name", "domains", "country"}
    assert data["history"] == [{"kind": "issued", "at": data["history"][0]["at"]}]
    assert (
        data["issuer"]["chain_head"]
        == seal.issuer.__class__.objects.get(pk=seal.issuer_id).chain_head
    )


def test_json_for_an_unknown_seal_is_a_404_document(client):
    response = client.get("/verify/AAAAAAAAAAAAAAAAAAAAAA.json")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_json_flips_at_the_expiry_instant(client):
    with time_machine.travel(datetime(2030, 1, 1, tzinfo=UTC), tick=False) as traveller:
        seal = award(MemberFactory(), days=10)
        traveller.move_to(seal.expires_at - timedelta(microseconds=1))
        assert client.get(f"/verify/{seal.public_id}.json").json()["status"] == "active"
        traveller.move_to(seal.expires_at)
        assert client.get(f"/verify/{seal.public_id}.json").json()["status"] == "expired"


def test_warm_json_makes_no_query(client, django_assert_num_queries):
    seal = seal_in("active")
    client.get(f"/verify/{seal.public_id}.json")
    with django_assert_num_queries(0):
        assert client.get(f"/verify/{seal.public_id}.json").status_code == 200


def test_events_keep_their_private_reason_out_of_json(client):
    seal = seal_in("revoked")
    body = client.get(f"/verify/{seal.public_id}.json").content.decode()
    assert "fraud" not in body
    assert [e["kind"] for e in client.get(f"/verify/{seal.public_id}.json").json()["history"]] == [
        SealEvent.Kind.ISSUED,
        SealEvent.Kind.REVOKED,
    ]


def test_embed_gives_the_plain_snippet_and_the_script_variant(client):
    seal = seal_in("active")
    text = client.get(f"/embed/{seal.public_id}?format=text&size=large").content.decode()
    assert text.startswith('<a href="http')
    assert 'target="_blank" rel="noopener"' in text
    assert 'width="320" height="96"' in text
    html = client.get(f"/embed/{seal.public_id}").content.decode()
    assert "location.hostname" in html
    assert "&lt;script&gt;" in html  # shown as code, never run on our page
    assert "<script>" not in html


@pytest.mark.parametrize("status", ["suspended", "expired", "revoked"])
def test_embed_offers_no_snippet_for_a_seal_that_is_not_valid(client, status):
    seal = seal_in(status)

    page = client.get(f"/embed/{seal.public_id}")
    text = client.get(f"/embed/{seal.public_id}?format=text")

    html = page.content.decode()
    assert page.status_code == 200
    assert "is not valid at the moment" in html
    assert f'href="/verify/{seal.public_id}"' in html
    assert "&lt;a href" not in html and "location.hostname" not in html  # no snippet at all
    assert text.status_code == 409
    assert "no snippet to embed" in text.content.decode()
    assert not text.cookies and not page.cookies


def test_embed_of_a_seal_not_yet_valid_still_gives_the_snippet(client):
    seal = seal_in("pending")  # placed before its start date, it says "Not yet valid" till then

    text = client.get(f"/embed/{seal.public_id}?format=text")

    assert text.status_code == 200
    assert text.content.decode().startswith('<a href="http')


def test_the_embed_page_speaks_the_language_asked_for(client):
    seal = seal_in("revoked")

    html = client.get(f"/embed/{seal.public_id}?lang=de").content.decode()

    assert "Dieses Siegel ist derzeit nicht gültig (Widerrufen)" in html
