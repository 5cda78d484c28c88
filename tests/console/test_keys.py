"""API keys for owners: a new key is shown once and works on the API; a revoked one does not;
both changes need a fresh password."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from issuers.models import ApiKey
from issuers.services import apikey_create
from tests.console.conftest import reauthenticated, signed_in


@pytest.fixture
def owner_client(world) -> Client:
    return reauthenticated(signed_in(world.owner), world.owner)


def api_status(key: str) -> int:
    return Client().get("/api/v1/issuer", HTTP_AUTHORIZATION=f"Bearer {key}").status_code


def test_an_owner_creates_a_key_shown_once_that_works(world, owner_client):
    response = owner_client.post(reverse("console:keys"), {"name": "CRM", "scopes": ["read"]})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    plaintext = re.search(r"ts_live_[0-9a-f]{12}_[\w-]+", response.content.decode()).group(0)
    key = ApiKey.objects.get(issuer=world.issuer, name="CRM")
    assert key.scopes == ["read"] and plaintext.split("_")[-1] not in key.secret_hash
    assert api_status(plaintext) == 200
    again = owner_client.get(reverse("console:keys")).content.decode()
    assert plaintext not in again and f"ts_live_{key.prefix}_" in again


def test_revoking_stops_the_key(world, owner_client):
    new = apikey_create(issuer=world.issuer, name="old")
    assert api_status(new.plaintext) == 200
    response = owner_client.post(reverse("console:key-revoke", args=[new.api_key.pk]))
    assert response.status_code == 302
    assert api_status(new.plaintext) == 401


def test_only_owners_see_keys_and_another_issuers_key_is_not_found(
    world, manager_client, owner_client
):
    assert manager_client.get(reverse("console:keys")).status_code == 403
    assert manager_client.post(reverse("console:keys"), {"name": "x"}).status_code == 403
    foreign = apikey_create(issuer=world.other_issuer, name="theirs")
    response = owner_client.post(reverse("console:key-revoke", args=[foreign.api_key.pk]))
    assert response.status_code == 404
    assert api_status(foreign.plaintext) == 200
    assert not ApiKey.objects.filter(name="x").exists()


def test_a_key_needs_a_name_and_a_scope(world, owner_client):
    response = owner_client.post(reverse("console:keys"), {"name": "", "scopes": []})
    assert response.status_code == 400
    assert ApiKey.objects.filter(issuer=world.issuer).count() == 1


def test_creating_a_key_asks_for_the_password_again_then_goes_on(world):
    client = signed_in(world.owner)
    assert client.get(reverse("console:keys")).status_code == 200  # reading needs none
    response = client.post(reverse("console:keys"), {"name": "CRM", "scopes": ["read"]})
    assert response.status_code == 302
    assert response["Location"].startswith("/console/accounts/reauthenticate/?next=")
    assert not ApiKey.objects.filter(name="CRM").exists()
    # allauth kept the POST: the right password replays it, and the key is shown once.
    answer = client.post(
        response["Location"], {"password": "pw-owner@a.example", "next": reverse("console:keys")}
    )
    assert answer.status_code == 200
    assert re.search(r"ts_live_[0-9a-f]{12}_", answer.content.decode())
    assert ApiKey.objects.filter(issuer=world.issuer, name="CRM").exists()


def test_revoking_a_key_asks_for_the_password_again(world):
    client = signed_in(world.owner)
    response = client.post(reverse("console:key-revoke", args=[world.api_key.pk]))
    assert response["Location"].startswith("/console/accounts/reauthenticate/")
    world.api_key.refresh_from_db()
    assert world.api_key.revoked_at is None
