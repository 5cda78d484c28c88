"""Cookies only where people sign in: the console's path, with its flags; CSRF enforced there; the
public side (the landing page included) sets none; the admin lives under the console's path."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from seals.models import Seal
from tests.console.conftest import signed_in

pytestmark = pytest.mark.django_db


def test_the_landing_page_links_the_console_and_the_docs_and_sets_no_cookie():
    client = Client(enforce_csrf_checks=True)
    response = client.get("/")
    assert response.status_code == 200
    assert not response.cookies and not response.has_header("Set-Cookie")
    assert "Cookie" not in response.get("Vary", "")
    body = response.content.decode()
    assert 'href="/console/"' in body and 'href="/api/docs/"' in body
    assert 'id="verify"' in body
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_signing_in_sets_cookies_scoped_to_the_console(world):
    client = Client()
    page = client.get(reverse("account_login"))
    assert page.status_code == 200
    csrf = page.cookies[settings.CSRF_COOKIE_NAME]
    assert csrf["path"] == "/console/" and csrf["httponly"] and csrf["samesite"] == "Lax"
    response = client.post(
        reverse("account_login"), {"login": "owner@a.example", "password": "pw-owner@a.example"}
    )
    assert response.status_code == 302 and response["Location"] == "/console/"
    session = response.cookies[settings.SESSION_COOKIE_NAME]
    assert session["path"] == "/console/"
    assert session["httponly"] and session["samesite"] == "Lax"
    assert client.get("/console/").status_code == 200


def test_cookies_are_secure_unless_debug():
    # The test settings run with DEBUG off, as production does.
    assert settings.SESSION_COOKIE_SECURE and settings.CSRF_COOKIE_SECURE


def test_a_wrong_password_does_not_sign_in(world):
    client = Client()
    response = client.post(
        reverse("account_login"), {"login": "owner@a.example", "password": "wrong"}
    )
    assert response.status_code == 200
    assert client.get("/console/").status_code == 302


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(world):
    client = signed_in(world.manager, enforce_csrf_checks=True)
    path = reverse("console:seal-action", args=[world.seal.public_id, "revoke"])
    response = client.post(path, {"reason": "Forged"})
    assert response.status_code == 403
    assert Seal.objects.get(pk=world.seal.pk).status == "active"
    # With the token from the confirmation page, the same POST goes through.
    page = client.get(path)
    token = page.cookies[settings.CSRF_COOKIE_NAME].value
    response = client.post(path, {"reason": "Real", "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert Seal.objects.get(pk=world.seal.pk).status == "revoked"


def test_public_reads_stay_cookie_free_for_a_signed_in_browser(world):
    # A browser would not even send the console's cookies here (their path); a client that does
    # still gets none back.
    client = signed_in(world.owner)
    for path in ("/", f"/verify/{world.seal.public_id}", f"/s/{world.seal.public_id}.svg"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert not response.cookies, path


def test_the_old_admin_address_redirects_under_the_console(admin_client):
    response = Client().get("/admin/issuers/issuer/?q=x")
    assert response.status_code == 302
    assert response["Location"] == "/console/admin/issuers/issuer/?q=x"
    assert admin_client.get("/console/admin/").status_code == 200
