"""Second factors: a TOTP authenticator is asked for at sign-in, and a role can be required to
have one before it may use the console."""

from __future__ import annotations

from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
    yield_hotp_counters_from_time,
)
from django.test import Client
from django.urls import reverse

from issuers.models import Invitation
from tests.console.conftest import signed_in


def current_code(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, next(yield_hotp_counters_from_time())))


def test_with_totp_the_password_alone_does_not_sign_in(world):
    secret = generate_totp_secret()
    TOTP.activate(world.owner.user, secret)
    client = Client()
    response = client.post(
        reverse("account_login"), {"login": "owner@a.example", "password": "pw-owner@a.example"}
    )
    assert response.status_code == 302 and "/2fa/authenticate/" in response["Location"]
    assert client.get(reverse("console:dashboard")).status_code == 302
    wrong = client.post(response["Location"], {"code": "000000"})
    assert wrong.status_code == 200
    done = client.post(response["Location"], {"code": current_code(secret)})
    assert done.status_code == 302
    assert client.get(reverse("console:dashboard")).status_code == 200


def test_a_role_can_require_a_second_factor(world, settings):
    settings.CONSOLE_MFA_REQUIRED_ROLES = ["owner"]
    owner = signed_in(world.owner)
    response = owner.get(reverse("console:dashboard"))
    assert response.status_code == 302 and response["Location"] == reverse("mfa_index")
    assert owner.post(reverse("console:staff"), {"email": "x@a.example"}).status_code == 302
    assert not Invitation.objects.exists()  # the POST was turned away before the view
    assert signed_in(world.manager).get(reverse("console:dashboard")).status_code == 200
    TOTP.activate(world.owner.user, generate_totp_secret())
    assert owner.get(reverse("console:dashboard")).status_code == 200
