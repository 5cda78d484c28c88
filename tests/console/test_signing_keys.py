"""Signing keys for owners: the list, rotation (the old key stays published), revocation behind
a confirmation that says what stops verifying; both changes need a fresh password."""

from __future__ import annotations

import pytest
from django.test import Client, TestCase
from django.urls import reverse

from issuers.models import AuditEntry
from seals import keys
from seals.models import SigningKey
from tests.console.conftest import reauthenticated, signed_in


@pytest.fixture
def owner_client(world) -> Client:
    return reauthenticated(signed_in(world.owner), world.owner)


def published_kids(issuer) -> set[str]:
    body = Client().get(f"/issuers/{issuer.slug}/jwks.json").json()
    return {jwk["kid"] for jwk in body["keys"]}


def test_the_page_lists_the_issuers_keys_only(world, owner_client):
    mine = keys.signing_key_active(world.issuer)
    theirs = keys.signing_key_active(world.other_issuer)
    html = owner_client.get(reverse("console:signing-keys")).content.decode()
    assert mine.key_id in html and keys.key_kid(mine) in html
    assert theirs.key_id not in html
    assert f"/issuers/{world.issuer.slug}/jwks.json" in html


def test_rotating_retires_the_old_key_which_stays_published(world, owner_client):
    old = keys.signing_key_active(world.issuer)
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = owner_client.post(reverse("console:signing-keys"), {"algorithm": ""})
    assert response.status_code == 302
    old.refresh_from_db()
    new = keys.signing_key_active(world.issuer)
    assert old.state == SigningKey.State.RETIRED and new.pk != old.pk
    assert new.algorithm == old.algorithm
    assert {keys.key_kid(old), keys.key_kid(new)} <= published_kids(world.issuer)
    entry = AuditEntry.objects.get(issuer=world.issuer, action="signing_key.rotated")
    assert entry.target == new.key_id and entry.actor == f"staff:{world.owner.user.pk}"


def test_an_unknown_algorithm_is_refused_and_changes_nothing(world, owner_client):
    before = list(SigningKey.objects.filter(issuer=world.issuer).values_list("pk", "state"))
    response = owner_client.post(reverse("console:signing-keys"), {"algorithm": "HS256"})
    assert response.status_code == 400
    assert list(SigningKey.objects.filter(issuer=world.issuer).values_list("pk", "state")) == (
        before
    )


def test_revoking_spells_out_what_stops_verifying_then_withdraws_the_key(world, owner_client):
    key = keys.signing_key_active(world.issuer)
    path = reverse("console:signing-key-revoke", args=[key.pk])
    page = owner_client.get(path).content.decode()
    assert "Every credential this key signed" in page
    assert "a new key is created first" in page  # it is the active one
    assert SigningKey.objects.get(pk=key.pk).state == SigningKey.State.ACTIVE  # GET: nothing
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = owner_client.post(path)
    assert response.status_code == 302
    key.refresh_from_db()
    assert key.state == SigningKey.State.REVOKED
    assert keys.key_kid(key) not in published_kids(world.issuer)
    assert keys.signing_key_active(world.issuer).pk != key.pk  # the issuer can still sign
    assert Client().get(f"/issuers/{world.issuer.slug}/keys/{key.key_id}").status_code == 404
    # A second time: final, said plainly, nothing changes.
    again = owner_client.post(path)
    assert again.status_code == 409 and "revocation is final" in again.content.decode()


def test_both_changes_ask_for_the_password_first(world):
    client = signed_in(world.owner)
    key = keys.signing_key_active(world.issuer)
    assert client.get(reverse("console:signing-keys")).status_code == 200
    for response in (
        client.post(reverse("console:signing-keys"), {"algorithm": ""}),
        client.get(reverse("console:signing-key-revoke", args=[key.pk])),
        client.post(reverse("console:signing-key-revoke", args=[key.pk])),
    ):
        assert response.status_code == 302
        assert response["Location"].startswith("/console/accounts/reauthenticate/?next=")
    assert list(SigningKey.objects.filter(issuer=world.issuer)) == [key]
    key.refresh_from_db()
    assert key.state == SigningKey.State.ACTIVE


def test_managers_may_not_and_another_issuers_key_is_not_found(world, manager_client, owner_client):
    mine = keys.signing_key_active(world.issuer)
    assert manager_client.get(reverse("console:signing-keys")).status_code == 403
    path = reverse("console:signing-key-revoke", args=[mine.pk])
    assert manager_client.post(path).status_code == 403
    theirs = keys.signing_key_active(world.other_issuer)
    path = reverse("console:signing-key-revoke", args=[theirs.pk])
    assert owner_client.post(path).status_code == 404
    theirs.refresh_from_db()
    mine.refresh_from_db()
    assert theirs.state == mine.state == SigningKey.State.ACTIVE
