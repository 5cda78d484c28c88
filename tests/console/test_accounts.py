"""allauth's pages in the console's frame: each answers, under the strict CSP, with no inline
script (its scripts are same-origin files, its data blocks JSON)."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from tests.console.conftest import signed_in

SIGNED_IN_PAGES = [
    "account_email",
    "account_change_password",
    "mfa_index",
    "mfa_activate_totp",
    "mfa_add_webauthn",
    "account_logout",
]
ANONYMOUS_PAGES = ["account_login", "account_reset_password", "account_signup"]


def inline_scripts(html: str) -> list[str]:
    scripts = re.findall(r"<script\b([^>]*)>", html)
    return [a for a in scripts if "src=" not in a and "application/json" not in a]


@pytest.mark.parametrize("name", SIGNED_IN_PAGES)
def test_account_pages_answer_in_the_console_frame(world, name):
    client = signed_in(world.viewer)
    response = client.get(reverse(name))
    if response.status_code == 302 and "/reauthenticate/" in response["Location"]:
        # Adding a second factor asks for the password again first (allauth's own rule).
        client.post(response["Location"], {"password": "pw-viewer@a.example"})
        response = client.get(reverse(name))
    assert response.status_code == 200, name
    body = response.content.decode()
    assert "console/console.css" in body
    assert inline_scripts(body) == []
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert "unsafe-inline" not in response["Content-Security-Policy"]


@pytest.mark.parametrize("name", ANONYMOUS_PAGES)
def test_entrance_pages_answer(db, name):
    response = Client().get(reverse(name))
    assert response.status_code == 200
    assert inline_scripts(response.content.decode()) == []


def test_a_password_reset_mails_a_link_under_the_console(world):
    response = Client().post(reverse("account_reset_password"), {"email": "viewer@a.example"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert "/console/accounts/password/reset/key/" in mail.outbox[0].body


def test_repeated_failed_sign_ins_are_throttled(world):
    client = Client()
    for _ in range(5):
        client.post(reverse("account_login"), {"login": "owner@a.example", "password": "bad"})
    response = client.post(
        reverse("account_login"),
        {"login": "owner@a.example", "password": "pw-owner@a.example"},
    )
    # allauth's per-account limit (5 failures in 5 minutes) holds even for the right password.
    assert response.status_code in (200, 429)
    assert client.get(reverse("console:dashboard")).status_code == 302
