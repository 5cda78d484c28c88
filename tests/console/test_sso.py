"""Single sign-on through an issuer's own OpenID Connect provider: configured by the owner (the
secret encrypted at rest), signing in invited staff matched by verified e-mail, refusing anyone
else. The provider is a fake: its discovery, token and userinfo endpoints answer from here."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from allauth.socialaccount.models import SocialAccount
from django.db import connection
from django.test import Client
from django.urls import reverse

from issuers.identity import IdentityProviderInput, identity_provider_set
from issuers.models import AuditEntry, IdentityProvider

IDP = "https://idp.a.example"


def fake_response(url: str, body: dict) -> requests.Response:
    response = requests.Response()
    response.status_code, response.url = 200, url
    response._content = json.dumps(body).encode()
    response.headers["Content-Type"] = "application/json"
    return response


@pytest.fixture
def idp(world, monkeypatch):
    """The issuer's provider, and the calls made to it (method, url)."""
    identity_provider_set(
        issuer=world.issuer,
        data=IdentityProviderInput("Acme SSO", IDP, "console-client", "s3cret", True),
        actor="test",
    )
    calls: list[tuple[str, str]] = []
    userinfo = {"sub": "u-1", "email": "manager@a.example", "email_verified": True}

    def request(self, method, url, **kwargs):
        calls.append((method.upper(), url))
        if url == f"{IDP}/.well-known/openid-configuration":
            return fake_response(
                url,
                {
                    "issuer": IDP,
                    "authorization_endpoint": f"{IDP}/authorize",
                    "token_endpoint": f"{IDP}/token",
                    "userinfo_endpoint": f"{IDP}/userinfo",
                    "token_endpoint_auth_methods_supported": ["client_secret_post"],
                },
            )
        if url == f"{IDP}/token":
            return fake_response(url, {"access_token": "at-1", "token_type": "Bearer"})
        if url == f"{IDP}/userinfo":
            return fake_response(url, userinfo)
        raise AssertionError(f"unexpected call to {url}")

    monkeypatch.setattr(requests.Session, "request", request)
    return userinfo, calls


def sign_in_through_the_idp(client: Client, world) -> object:
    start = client.get(reverse("console:sso-start"), {"organisation": world.issuer.slug})
    assert start.status_code == 200 and "Continue with Acme SSO" in start.content.decode()
    login = reverse("openid_connect_login", args=[f"issuer-{world.issuer.pk}"])
    response = client.post(login)
    assert response.status_code == 302
    authorize = urlparse(response["Location"])
    assert f"{authorize.scheme}://{authorize.netloc}{authorize.path}" == f"{IDP}/authorize"
    query = parse_qs(authorize.query)
    assert query["client_id"] == ["console-client"]
    callback = reverse("openid_connect_callback", args=[f"issuer-{world.issuer.pk}"])
    assert query["redirect_uri"][0].endswith(callback)
    return client.get(callback, {"code": "c-1", "state": query["state"][0]}, follow=True)


def test_a_staff_member_signs_in_through_the_idp_and_lands_on_the_dashboard(world, idp):
    client = Client()
    response = sign_in_through_the_idp(client, world)
    assert response.redirect_chain[-1][0] == reverse("console:dashboard")
    assert response.status_code == 200
    assert int(client.session["_auth_user_id"]) == world.manager.user.pk
    assert world.issuer.name in response.content.decode()
    account = SocialAccount.objects.get()
    assert (account.user_id, account.provider, account.uid) == (
        world.manager.user.pk,
        f"issuer-{world.issuer.pk}",
        "u-1",
    )
    _, calls = idp
    assert ("POST", f"{IDP}/token") in calls and ("GET", f"{IDP}/userinfo") in calls


def test_a_linked_person_signs_in_again_by_the_providers_subject(world, idp):
    sign_in_through_the_idp(Client(), world)
    idp[0]["email"] = "changed@elsewhere.example"  # the subject decides from now on
    client = Client()
    response = sign_in_through_the_idp(client, world)
    assert response.redirect_chain[-1][0] == reverse("console:dashboard")
    assert int(client.session["_auth_user_id"]) == world.manager.user.pk


@pytest.mark.parametrize(
    "claims",
    [
        {"email": "stranger@a.example", "email_verified": True},  # not invited
        {"email": "manager@a.example", "email_verified": False},  # not verified by the IdP
        {"email": "owner@b.example", "email_verified": True},  # staff of another issuer only
    ],
)
def test_anyone_else_is_refused_and_no_account_is_made(world, idp, claims):
    from django.contrib.auth import get_user_model

    from issuers.models import StaffRole
    from tests.console.conftest import make_staff

    make_staff(world.other_issuer, "owner@b.example", StaffRole.OWNER)
    users = get_user_model().objects.count()
    idp[0].update(claims)
    client = Client()
    response = sign_in_through_the_idp(client, world)
    assert response.status_code == 403
    assert "no one on its console staff" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert get_user_model().objects.count() == users
    assert not SocialAccount.objects.exists()


def test_the_owner_sets_it_up_and_the_secret_is_encrypted(world, owner_client):
    data = {
        "name": "Acme SSO",
        "server_url": IDP,
        "client_id": "console-client",
        "client_secret": "s3cret",
        "enabled": "on",
    }
    response = owner_client.post(reverse("console:sso"), data)
    assert response.status_code == 302
    provider = IdentityProvider.objects.get(issuer=world.issuer)
    assert provider.client_secret == "s3cret"
    with connection.cursor() as cursor:
        cursor.execute("SELECT client_secret FROM issuers_identityprovider")
        (stored,) = cursor.fetchone()
    assert "s3cret" not in stored
    page = owner_client.get(reverse("console:sso")).content.decode()
    assert "s3cret" not in page and f"/oidc/issuer-{world.issuer.pk}/login/callback/" in page
    assert 'value="console-client"' in page and 'value="Acme SSO"' in page  # the stored ones
    # An empty secret keeps the stored one.
    owner_client.post(reverse("console:sso"), {**data, "client_secret": "", "name": "Acme"})
    provider.refresh_from_db()
    assert (provider.name, provider.client_secret) == ("Acme", "s3cret")
    actions = list(AuditEntry.objects.filter(issuer=world.issuer).values_list("action", "data"))
    assert actions[-2:] == [
        ("sso.created", {"enabled": True, "secret_replaced": True}),
        ("sso.changed", {"enabled": True, "secret_replaced": False}),
    ]


def test_only_the_owner_sees_the_settings_and_https_is_required(
    world, manager_client, owner_client
):
    assert manager_client.get(reverse("console:sso")).status_code == 403
    response = owner_client.post(
        reverse("console:sso"),
        {"name": "x", "server_url": "http://idp.example", "client_id": "c", "client_secret": "s"},
    )
    assert response.status_code == 400 and "must use https" in response.content.decode()
    assert not IdentityProvider.objects.exists()


def test_the_sign_in_page_lists_no_providers(world, idp):
    page = Client().get(reverse("account_login")).content.decode()
    assert "Acme SSO" not in page and reverse("console:sso-start") in page


def test_an_unknown_organisation_is_said_plainly(world):
    response = Client().get(reverse("console:sso-start"), {"organisation": "nobody"})
    assert response.status_code == 404
    assert "No organisation by that name" in response.content.decode()
