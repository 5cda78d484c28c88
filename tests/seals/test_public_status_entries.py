"""The verify JSON announces both status-list entries (revocation and suspension, same index)."""

from __future__ import annotations

import pytest

from seals.credentials import credential_payload
from seals.models import Seal
from seals.snapshot import invalidate_seal
from seals.status_lists import status_list_bit_published
from tests.seals.public_helpers import regenerate_status_lists, seal_in

pytestmark = pytest.mark.django_db


def test_the_json_lists_both_entries_at_the_same_index(client):
    seal = seal_in("active")
    entries = client.get(f"/verify/{seal.public_id}.json").json()["credential_status"]
    assert [e["statusPurpose"] for e in entries] == ["revocation", "suspension"]
    index = str(seal.status_list_index)
    base = f"http://127.0.0.1:8000/issuers/{seal.issuer.slug}/status"
    for entry in entries:
        purpose = entry["statusPurpose"]
        assert entry["type"] == "BitstringStatusListEntry"
        assert entry["statusListIndex"] == index
        assert entry["statusListCredential"] == f"{base}/{purpose}"
        assert entry["id"] == f"{base}/{purpose}#{index}"


def test_the_revocation_entry_is_the_one_the_credential_carries(client):
    seal = seal_in("active")
    entries = client.get(f"/verify/{seal.public_id}.json").json()["credential_status"]
    assert entries[0] == credential_payload(seal)["credentialStatus"]


def test_the_suspension_entry_points_at_the_bit_that_a_suspension_sets(client):
    seal = seal_in("suspended")
    _, suspension = client.get(f"/verify/{seal.public_id}.json").json()["credential_status"]
    regenerate_status_lists()
    index = int(suspension["statusListIndex"])
    assert status_list_bit_published(seal.issuer, "suspension", seal.status_list, index) is True
    # The revocation bit too, for verifiers that read only the credential's entry
    # (docs/design.md §8); the suspension bit tells the two apart.
    assert status_list_bit_published(seal.issuer, "revocation", seal.status_list, index) is True


def test_a_later_list_number_shows_in_the_entries(client):
    seal = seal_in("active")
    Seal.objects.filter(pk=seal.pk).update(status_list=2)
    invalidate_seal(seal)
    entries = client.get(f"/verify/{seal.public_id}.json").json()["credential_status"]
    assert [e["statusListCredential"].split("/status/")[1] for e in entries] == [
        "revocation/2",
        "suspension/2",
    ]


def test_warm_json_with_the_entries_makes_no_query(client, django_assert_num_queries):
    seal = seal_in("active")
    client.get(f"/verify/{seal.public_id}.json")
    with django_assert_num_queries(0):
        response = client.get(f"/verify/{seal.public_id}.json")
    assert len(response.json()["credential_status"]) == 2
