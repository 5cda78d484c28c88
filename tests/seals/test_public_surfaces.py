"""The verification page's badge, verdict and share links; "Report misuse"; checking a
credential by hand (GET/POST /verify/credential as a page); the issuer's page for people."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.core import mail
from django.db import connection

from config.tenancy import scopes_disabled
from effects.webhooks import webhook_endpoint_create
from issuers.models import StaffRole, WebhookDelivery
from outbox import core as outbox
from outbox.models import Message
from seals import misuse
from seals.credentials import credential_jwt
from seals.models import MisuseReport
from seals.public_pages import MAX_UPLOAD_BYTES, key_thumbprint
from tests.factories import MemberFactory
from tests.seals.public_helpers import seal_in

pytestmark = pytest.mark.django_db
INSIDE_ONE_WINDOW = datetime(2026, 3, 1, 12, 0, 30, tzinfo=UTC)


def _html(response) -> str:
    return response.content.decode()


def _assert_public(response) -> None:
    """No cookie, no script, no inline style that the CSP would have to allow."""
    assert not response.cookies and not response.has_header("Set-Cookie")
    html = _html(response)
    assert "<script" not in html
    assert " style=" not in html
    csp = response["Content-Security-Policy"]
    assert "'unsafe-inline'" not in csp and "script-src" not in csp.replace("default-src", "")


def _report_form(client, seal, **headers):
    response = client.get(f"/verify/{seal.public_id}/report", **headers)
    token = re.search(r'name="token" value="([^"]+)"', _html(response)).group(1)
    return response, token


def _post_report(client, seal, form_token, **fields):
    data = {"site_url": "https://copycat.example/about", "message": "Seal on a shop that is not"}
    data |= {"email": "", "website": "", "token": form_token, **fields}
    return client.post(f"/verify/{seal.public_id}/report", data, REMOTE_ADDR="198.51.100.7")


# --- the verification page ------------------------------------------------------------------
def test_the_page_shows_the_seal_image_as_the_snippet_does(client):
    seal = seal_in("active")
    html = _html(client.get(f"/verify/{seal.public_id}"))
    img = re.search(r'<img class="badge" src="([^"]+)" srcset="([^"]+)"', html)
    assert img and img.group(1) == f"/s/{seal.public_id}.png?size=large"
    assert "&amp;scale=2 2x" in img.group(2) and "&amp;scale=3 3x" in img.group(2)
    assert client.get(unescape(img.group(1))).status_code == 200


@pytest.mark.parametrize(
    ("status", "verdict"),
    [
        ("active", "The seal is valid."),
        ("revoked", "Not valid: The seal was revoked."),
        ("suspended", "Not valid: The seal is suspended."),
        ("expired", "Not valid: The seal has expired."),
        ("pending", "Not valid: The seal is not yet valid."),
    ],
)
def test_the_banner_says_the_verdict_in_words(client, status, verdict):
    html = _html(client.get(f"/verify/{seal_in(status).public_id}"))
    banner = re.search(r'<section class="status status-(\w+)".*?</section>', html, re.S)
    assert banner.group(1) == status
    assert f'<span class="verdict">{verdict}</span>' in banner.group(0)


def test_the_page_lists_the_domains_it_is_valid_for(client):
    seal = seal_in("active", MemberFactory(domains=["shop.example", "www.shop.example"]))
    html = _html(client.get(f"/verify/{seal.public_id}"))
    chips = re.search(r'<ul class="chips">(.*?)</ul>', html, re.S).group(1)
    assert "<li>shop.example</li>" in chips and "<li>www.shop.example</li>" in chips


def test_the_share_links_need_no_script(client, settings):
    seal = seal_in("active")
    html = _html(client.get(f"/verify/{seal.public_id}"))
    page_url = f"{settings.PUBLIC_BASE_URL}/verify/{seal.public_id}"
    assert f'<input id="share-url" type="url" dir="ltr" readonly value="{page_url}">' in html
    linkedin = unescape(re.search(r'href="(https://www.linkedin.com/profile/add\?[^"]+)"', html)[1])
    query = parse_qs(urlsplit(linkedin).query)
    assert query["startTask"] == ["CERTIFICATION_NAME"]
    assert query["name"] == [seal.programme.name]
    assert query["organizationName"] == [seal.issuer.name]
    assert query["issueYear"] == [str(seal.valid_from.year)]
    assert query["issueMonth"] == [str(seal.valid_from.month)]
    assert query["expirationYear"] == [str(seal.expires_at.year)]
    assert query["certUrl"] == [page_url] and query["certId"] == [seal.public_id]
    mailto = unescape(re.search(r'href="(mailto:[^"]+)"', html)[1])
    assert parse_qs(urlsplit(mailto).query)["body"] == [page_url]


def test_the_page_links_the_report_form_the_steps_and_the_register(client):
    seal = seal_in("active")
    html = _html(client.get(f"/verify/{seal.public_id}"))
    assert f'href="/verify/{seal.public_id}/report"' in html
    assert 'href="/verify/how"' in html
    assert f'href="/issuers/{seal.issuer.slug}/register"' in html
    assert 'href="/verify/credential"' in html


def test_how_to_verify_is_a_public_page(client):
    response = client.get("/verify/how?lang=fr")
    assert response.status_code == 200
    _assert_public(response)
    assert "<ol" in _html(response) and response["Content-Language"] == "fr"


# --- report misuse --------------------------------------------------------------------------
def test_the_report_form_is_public_and_posts_to_itself(client):
    seal = seal_in("active")
    response, token = _report_form(client, seal, HTTP_REFERER="https://copycat.example/x")
    assert response.status_code == 200
    _assert_public(response)
    assert "form-action 'self'" in response["Content-Security-Policy"]
    assert response["Cache-Control"] == "no-store"
    assert misuse.token_names(token, seal.public_id)
    # The page the visitor came from is offered as the site.
    assert 'value="https://copycat.example/x"' in _html(response)


def test_a_report_is_stored_for_the_issuer_and_owed_to_it(
    client, django_capture_on_commit_callbacks
):
    seal = seal_in("active")
    with scopes_disabled():
        webhook_endpoint_create(issuer=seal.issuer, url="https://hooks.example/in")
    _form, token = _report_form(client, seal)
    with django_capture_on_commit_callbacks():
        response = _post_report(client, seal, token, email="Reporter@Example.org")
    assert response.status_code == 200
    _assert_public(response)
    assert "your report was sent" in _html(response)
    with scopes_disabled():
        report = MisuseReport.objects.get()
        delivery = WebhookDelivery.objects.get(event_type="misuse.reported")
    assert (report.issuer_id, report.seal_id) == (seal.issuer_id, seal.pk)
    assert report.site_host == "copycat.example"
    assert report.reporter_email == "Reporter@Example.org"
    assert delivery.payload["data"] == {
        "report": report.pk,
        "seal": seal.public_id,
        "site_host": "copycat.example",
    }
    assert Message.objects.filter(topic=misuse.MAIL_TOPIC).count() == 1
    with connection.cursor() as cursor:  # encrypted at rest
        cursor.execute("SELECT reporter_email FROM seals_misusereport")
        stored = cursor.fetchone()[0]
    assert "Example.org" not in stored and "reporter" not in stored.lower()


def test_the_issuer_is_mailed_once(client, world_of_staff):
    seal, owner_email = world_of_staff
    _form, token = _report_form(client, seal)
    _post_report(client, seal, token, email="someone@example.org")
    outbox.drain()
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert owner_email in sent.to and "viewer@b.example" not in sent.to
    assert sent.reply_to == ["someone@example.org"]
    assert "copycat.example" in sent.subject and "Seal on a shop" in sent.body
    with scopes_disabled():
        report = MisuseReport.objects.get()
    assert report.notified_at is not None
    from effects.misuse import misuse_report_notify

    with scopes_disabled():
        assert misuse_report_notify(report_id=report.pk) is False  # run again: nothing sent
    assert len(mail.outbox) == 1


@pytest.fixture
def world_of_staff(db):
    from tests.console.conftest import make_staff

    seal = seal_in("active")
    with scopes_disabled():
        make_staff(seal.issuer, "owner@b.example", StaffRole.OWNER)
        make_staff(seal.issuer, "viewer@b.example", StaffRole.VIEWER)
    return seal, "owner@b.example"


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"message": ""}, "This field is required."),
        ({"site_url": "not a site"}, "Enter the address of a website."),
        ({"email": "not-an-address"}, "Enter a valid email address."),
        ({"website": "http://spam.example"}, "This form could not be sent."),
        ({"token": "forged"}, "This form has expired."),
        ({"message": "x" * 2001}, "at most 2000 characters"),
    ],
)
def test_bad_input_shows_the_form_again_and_stores_nothing(client, fields, error):
    seal = seal_in("active")
    _form, token = _report_form(client, seal)
    response = _post_report(client, seal, token, **fields)
    assert response.status_code == 400
    _assert_public(response)
    html = _html(response)
    assert error in unescape(html)
    assert '<form method="post"' in html
    fresh = re.search(r'name="token" value="([^"]+)"', html).group(1)
    assert misuse.token_names(fresh, seal.public_id)  # a fresh token to send it again
    with scopes_disabled():
        assert not MisuseReport.objects.exists()
    assert not Message.objects.filter(topic=misuse.MAIL_TOPIC).exists()


def test_a_token_is_for_one_seal_and_a_while(client):
    seal, other = seal_in("active"), seal_in("active")
    token = misuse.form_token(seal.public_id)
    assert not misuse.token_names(token, other.public_id)
    with time_machine.travel(datetime.now(UTC)):
        token = misuse.form_token(seal.public_id)
    with time_machine.travel(datetime.now(UTC).timestamp() + misuse.TOKEN_MAX_AGE_SECONDS + 5):
        assert not misuse.token_names(token, seal.public_id)


def test_reports_are_limited_per_network(client, settings):
    settings.PUBLIC_RATE_LIMITS = {**settings.PUBLIC_RATE_LIMITS, "misuse-report": 2}
    seal = seal_in("active")
    with time_machine.travel(INSIDE_ONE_WINDOW, tick=False):
        _form, token = _report_form(client, seal)
        codes = [_post_report(client, seal, token).status_code for _ in range(3)]
        limited = _post_report(client, seal, token)
    assert codes == [200, 200, 429]
    assert limited.status_code == 429 and int(limited["Retry-After"]) > 0
    assert "Too many reports" in _html(limited)
    _assert_public(limited)
    with scopes_disabled():
        assert MisuseReport.objects.count() == 2


def test_an_unknown_or_erased_seal_has_no_report_form(client):
    assert client.get("/verify/AAAAAAAAAAAAAAAAAAAAAA/report").status_code == 404


# --- checking a credential by hand ----------------------------------------------------------
def _check(client, data, **extra):
    return client.post("/verify/credential?answer=page", data, REMOTE_ADDR="198.51.100.9", **extra)


def test_get_shows_the_form(client):
    response = client.get("/verify/credential")
    assert response.status_code == 200
    _assert_public(response)
    html = _html(response)
    assert 'enctype="multipart/form-data"' in html and 'name="upload"' in html
    assert "form-action 'self'" in response["Content-Security-Policy"]


def test_other_methods_are_refused(client):
    assert client.put("/verify/credential").status_code == 405


def test_a_pasted_jwt_gets_the_verdict_and_each_check(client):
    seal = seal_in("active")
    with scopes_disabled():
        token = credential_jwt(seal)
    response = _check(client, {"credential": token})
    assert response.status_code == 200
    _assert_public(response)
    html = _html(response)
    assert 'class="status status-active"' in html and "<strong>Valid</strong>" in html
    for check in ("Signature", "Issuer", "Revocation and suspension status"):
        assert f'<td>{check}</td><td><span class="ok">' in html
    assert "Transparency log" in html


def test_a_revoked_seal_is_not_valid_with_its_reason(client):
    seal = seal_in("revoked")
    with scopes_disabled():
        token = credential_jwt(seal)
    html = _html(_check(client, {"credential": token}))
    assert "Not valid: " in html and "status-revoked" in html


def test_a_baked_badge_is_read_from_the_upload(client):
    seal = seal_in("active")
    png = client.get(f"/s/{seal.public_id}/badge.png").content
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("badge.png", png, content_type="image/png")
    html = _html(_check(client, {"upload": upload}))
    assert "<strong>Valid</strong>" in html


def test_a_plain_image_is_not_a_badge(client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    seal = seal_in("active")
    png = client.get(f"/s/{seal.public_id}.png").content
    response = _check(client, {"upload": SimpleUploadedFile("seal.png", png)})
    assert response.status_code == 400
    assert "not a baked badge" in _html(response)


def test_an_upload_over_the_limit_is_refused_with_its_size(client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    big = SimpleUploadedFile("big.png", b"\x89PNG\r\n\x1a\n" + b"0" * MAX_UPLOAD_BYTES)
    response = _check(client, {"upload": big})
    assert response.status_code == 413
    assert "at most 1024 KB" in _html(response)
    _assert_public(response)


def test_an_empty_form_says_what_to_send(client):
    response = _check(client, {"credential": ""})
    assert response.status_code == 400 and "Paste a credential" in _html(response)


def test_the_json_api_is_unchanged_by_the_page(client):
    seal = seal_in("active")
    with scopes_disabled():
        token = credential_jwt(seal)
    for kwargs in (
        {"data": {"credential": token}, "content_type": "application/json"},
        {"data": {"credential": token}},  # a form post without ?answer=page
    ):
        response = client.post("/verify/credential", **kwargs)
        assert response["Content-Type"] == "application/json"
        assert response.json()["valid"] is True


# --- the issuer's page ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("accept", "html"),
    [
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", True),
        ("text/html", True),
        ("application/ld+json", False),
        ("application/json", False),
        ("*/*", False),
        (None, False),
        ("application/json, text/html", False),
    ],
)
def test_the_issuer_profile_is_negotiated(client, accept, html):
    seal = seal_in("active")
    headers = {"HTTP_ACCEPT": accept} if accept else {}
    response = client.get(f"/issuers/{seal.issuer.slug}", **headers)
    assert response.status_code == 200
    assert "Accept" in response["Vary"]
    if html:
        assert response["Content-Type"].startswith("text/html")
        _assert_public(response)
        assert f"<h1>{seal.issuer.name}</h1>" in _html(response)
    else:
        assert response["Content-Type"] == "application/ld+json"
        assert response.json()["type"] == ["Profile"]


def test_the_issuer_page_shows_programmes_keys_log_and_links(client):
    seal = seal_in("active")
    issuer = seal.issuer
    response = client.get(f"/issuers/{issuer.slug}", HTTP_ACCEPT="text/html")
    html = _html(response)
    assert seal.programme.name in html
    with scopes_disabled():
        key = issuer.signing_keys.first()
    assert key_thumbprint(key.public_jwk) in html
    links = ("/register", "/jwks.json", "/did.json", "/status/revocation", "/status/suspension")
    for link in links:
        assert f"/issuers/{issuer.slug}{link}" in html
    assert f'/issuers/{issuer.slug}?format=json"' in html
    own_json = client.get(f"/issuers/{issuer.slug}?format=json", HTTP_ACCEPT="text/html")
    assert own_json["Content-Type"] == "application/ld+json"


def test_the_key_thumbprint_is_rfc_7638s():
    # RFC 7638 §3.1's example key and thumbprint.
    jwk = {
        "kty": "RSA",
        "n": (
            "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1"
            "L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4"
            "QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbO"
            "pbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csF"
            "Cur-kEgU8awapJzKnqDKgw"
        ),
        "e": "AQAB",
        "alg": "RS256",
        "kid": "2011-04-29",
    }
    assert key_thumbprint(jwk) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


# --- languages ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("de", ("Teilen", "Missbrauch melden", "Nur auf diesen Websites gültig")),
        ("fr", ("Partager", "Signaler un abus")),
        ("es", ("Compartir", "Denunciar un uso indebido")),
        ("ar", ("مشاركة", "الإبلاغ عن إساءة الاستخدام")),
    ],
)
def test_the_new_words_are_translated(client, lang, words):
    seal = seal_in("revoked")
    html = _html(client.get(f"/verify/{seal.public_id}?lang={lang}"))
    for word in words:
        assert word in html
    assert "Not valid:" not in html and "Share" not in html


def test_the_arabic_pages_read_right_to_left(client):
    seal = seal_in("active")
    for path in (
        f"/verify/{seal.public_id}",
        f"/verify/{seal.public_id}/report",
        "/verify/credential",
        "/verify/how",
    ):
        html = _html(client.get(f"{path}?lang=ar"))
        assert '<html lang="ar" dir="rtl">' in html, path
