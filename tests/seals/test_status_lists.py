"""Bitstring Status Lists: encoding, index assignment, bits following status, publication."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings

from seals.keys import issuer_jwks
from seals.models import Seal, StatusList
from seals.services import seal_reinstate, seal_revoke, seal_suspend
from seals.status_lists import (
    LIST_SIZE,
    StatusListError,
    bit_is_set,
    decode_bits,
    encode_bits,
    set_bit,
)
from seals.verification import credential_without_jwt_claims, verify_jwt
from tests.factories import MemberFactory, award
from tests.seals.credential_checks import (
    DATA,
    jsonld_undefined_terms,
    jwcrypto_claims,
    jwt_parts,
    vc2_schema_errors,
)
from tests.seals.public_helpers import regenerate_status_lists

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def test_it_decodes_the_1edtech_validator_vector_with_only_index_23_set():
    vector = json.loads(
        (DATA / "validator-bitstring-status-list-credential-index23-revoked.json").read_text()
    )
    bits = decode_bits(vector["credentialSubject"]["encodedList"])
    assert len(bits) * 8 == 131_072
    assert [i for i in range(len(bits) * 8) if bit_is_set(bits, i)] == [23]


def test_bit_zero_is_the_left_most_bit_of_the_first_byte():
    bits = bytearray(LIST_SIZE // 8)
    set_bit(bits, 0)
    set_bit(bits, 9)
    assert bits[0] == 0x80 and bits[1] == 0x40
    decoded = decode_bits(encode_bits(bits))
    assert decoded == bits and bit_is_set(decoded, 0) and not bit_is_set(decoded, 1)


def test_the_encoding_is_multibase_base64url_gzip_without_padding():
    encoded = encode_bits(bytearray(LIST_SIZE // 8))
    assert encoded.startswith("uH4sI") and "=" not in encoded and "+" not in encoded
    assert LIST_SIZE >= 131_072


def test_it_refuses_a_list_without_the_multibase_prefix_or_an_index_outside_it():
    with pytest.raises(StatusListError):
        decode_bits("H4sIAAAA")
    with pytest.raises(StatusListError):
        bit_is_set(bytes(16), 128)


@pytest.mark.django_db
def test_each_seal_gets_a_random_stable_unique_index_in_both_lists(issuer):
    seals = [award(MemberFactory(issuer=issuer)) for _ in range(5)]
    indices = {seal.status_list_index for seal in seals}
    assert len(indices) == 5 and {seal.status_list for seal in seals} == {0}
    assert indices != set(range(5))  # random, not sequential
    seal = seals[0]
    seal_suspend(seal=seal, reason="x", actor="test")
    seal.refresh_from_db()
    assert seal.status_list_index == seals[0].status_list_index
    purposes = set(
        StatusList.objects.filter(issuer=issuer, number=0).values_list("purpose", flat=True)
    )
    assert purposes == {"revocation", "suspension"}


@pytest.mark.django_db
def test_a_new_list_is_opened_when_one_fills(issuer):
    for purpose in ("revocation", "suspension"):
        StatusList.objects.create(issuer=issuer, purpose=purpose, number=0, size=8)
    seals = [award(MemberFactory(issuer=issuer)) for _ in range(9)]
    assert sorted(s.status_list_index for s in seals[:8]) == list(range(8))
    assert seals[8].status_list == 1
    assert StatusList.objects.filter(issuer=issuer, number=1).count() == 2
    assert seals[8].status_list_index < LIST_SIZE


@pytest.mark.django_db(transaction=True)  # the change marks its list dirty on commit
def test_revoking_a_seal_sets_its_bit_within_one_minute(issuer, client):
    with time_machine.travel(NOW, tick=False):
        seal = award(MemberFactory(issuer=issuer))
        regenerate_status_lists()
        seal = seal_revoke(seal=seal, reason="fraud", actor="test")
    with time_machine.travel(NOW + timedelta(seconds=15), tick=False):
        regenerate_status_lists()  # the beat job, which runs every 15 s
        response = client.get(f"/issuers/{issuer.slug}/status/revocation")
        suspension = client.get(f"/issuers/{issuer.slug}/status/suspension")
        claims = jwcrypto_claims(response.content.decode(), issuer_jwks(issuer))
        suspension_claims = jwcrypto_claims(suspension.content.decode(), issuer_jwks(issuer))
    bits = decode_bits(claims["credentialSubject"]["encodedList"])
    assert claims["credentialSubject"]["ttl"] == 20_000  # the budget in the test below
    assert bit_is_set(bits, seal.status_list_index)
    assert sum(bin(b).count("1") for b in bits) == 1
    assert not bit_is_set(
        decode_bits(suspension_claims["credentialSubject"]["encodedList"]), seal.status_list_index
    )
    assert response["Content-Type"] == "application/vc+jwt" and not response.cookies
    assert int(response["Cache-Control"].split("max-age=")[1]) <= 60


def test_the_regeneration_job_is_scheduled_at_least_every_minute():
    job = settings.CELERY_BEAT_SCHEDULE["regenerate-status-lists"]
    assert job["task"] == "workers.regenerate_status_lists" and job["schedule"] <= 60


def test_a_verifier_honouring_ttl_and_max_age_sees_new_bits_within_a_minute():
    from seals.credential_views import STATUS_LIST_MAX_AGE
    from seals.status_lists import LIST_TTL_MS

    interval = settings.CELERY_BEAT_SCHEDULE["regenerate-status-lists"]["schedule"]
    # A change just after a run, a shared cache filled just before the next, a verifier that
    # read that cache at the end of its max-age and then keeps the list for ttl.
    assert interval + STATUS_LIST_MAX_AGE + LIST_TTL_MS / 1000 <= 60


@pytest.mark.django_db(transaction=True)
def test_suspension_and_reinstatement_follow_in_the_suspension_list(issuer, client):
    seal = award(MemberFactory(issuer=issuer))
    seal_suspend(seal=seal, reason="audit", actor="test")
    regenerate_status_lists()
    token = client.get(f"/issuers/{issuer.slug}/status/suspension").content.decode()
    assert bit_is_set(
        decode_bits(jwt_parts(token)[1]["credentialSubject"]["encodedList"]), seal.status_list_index
    )
    seal_reinstate(seal=seal, reason="ok", actor="test")
    assert regenerate_status_lists() == 2  # both lists of that number were dirty
    assert regenerate_status_lists() == 0  # and are clean now
    token = client.get(f"/issuers/{issuer.slug}/status/suspension").content.decode()
    assert not bit_is_set(
        decode_bits(jwt_parts(token)[1]["credentialSubject"]["encodedList"]), seal.status_list_index
    )


@pytest.mark.django_db
def test_the_status_list_credential_is_a_valid_signed_vc(issuer, client):
    award(MemberFactory(issuer=issuer))
    token = client.get(f"/issuers/{issuer.slug}/status/revocation").content.decode()
    header, payload = jwt_parts(token)
    assert set(header) == {"alg", "kid", "typ"}
    assert payload["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert payload["credentialSubject"]["statusPurpose"] == "revocation"
    assert payload["id"] == f"http://127.0.0.1:8000/issuers/{issuer.slug}/status/revocation"
    assert len(decode_bits(payload["credentialSubject"]["encodedList"])) * 8 >= 131_072
    assert vc2_schema_errors(credential_without_jwt_claims(payload)) == []
    assert jsonld_undefined_terms(payload) == set()
    result = verify_jwt(token)
    assert result.valid and result.kind == "status_list"
    assert jwcrypto_claims(token, issuer_jwks(issuer))["iss"] == payload["issuer"]


@pytest.mark.django_db
def test_unknown_lists_and_purposes_are_404(issuer, client):
    award(MemberFactory(issuer=issuer))
    assert client.get(f"/issuers/{issuer.slug}/status/expiry").status_code == 404
    assert client.get(f"/issuers/{issuer.slug}/status/revocation/7").status_code == 404
    assert client.get("/issuers/nobody/status/revocation").status_code == 404


@pytest.mark.django_db
def test_the_unique_constraint_refuses_two_seals_on_one_bit(issuer):
    first = award(MemberFactory(issuer=issuer))
    second = award(MemberFactory(issuer=issuer))
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Seal.objects.filter(pk=second.pk).update(status_list_index=first.status_list_index)


@pytest.mark.django_db
def test_both_entries_share_the_list_number_and_index_and_the_credential_carries_revocation(
    issuer,
):
    from seals.credentials import credential_payload
    from seals.status_lists import status_list_entries

    seal = award(MemberFactory(issuer=issuer))
    revocation, suspension = status_list_entries(seal)
    assert (revocation["statusPurpose"], suspension["statusPurpose"]) == (
        "revocation",
        "suspension",
    )
    assert (
        revocation["statusListIndex"]
        == suspension["statusListIndex"]
        == str(seal.status_list_index)
    )
    assert suspension["statusListCredential"].endswith("/status/suspension")
    assert credential_payload(seal)["credentialStatus"] == revocation


def _served_list(client, issuer) -> tuple[dict, dict]:
    token = client.get(f"/issuers/{issuer.slug}/status/revocation").content.decode()
    return jwt_parts(token)[0], jwcrypto_claims(token, issuer_jwks(issuer))


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("revoked", ["the active key", "a retired key"])
def test_revoking_a_signing_key_re_signs_its_lists_before_the_revocation_is_visible(
    issuer, client, revoked
):
    from django.core.cache import cache
    from django.db import transaction

    from seals.keys import key_kid, signing_key_active, signing_key_revoke, signing_key_rotate
    from seals.models import SigningKey
    from seals.status_lists import _cache_key

    seal = award(MemberFactory(issuer=issuer))
    signer = signing_key_active(issuer)
    header, _ = _served_list(client, issuer)  # signed by that key and kept in the cache
    assert header["kid"] == key_kid(signer)
    if revoked == "a retired key":
        signing_key_rotate(issuer=issuer)  # the list stays signed by the retired key
        assert _served_list(client, issuer)[0]["kid"] == key_kid(signer)
    with transaction.atomic():
        signing_key_revoke(key=signer)
        # Not committed yet, and the cache already serves the list signed anew.
        cached_token = cache.get(_cache_key(issuer.pk, "revocation", 0))[0]
        assert jwt_parts(cached_token)[0]["kid"] != key_kid(signer)
    header, claims = _served_list(client, issuer)  # verified against the published keys
    assert SigningKey.objects.get(pk=signer.pk).state == SigningKey.State.REVOKED
    assert header["kid"] == key_kid(signing_key_active(issuer))
    assert key_kid(signer) not in {k["kid"] for k in issuer_jwks(issuer)["keys"]}
    assert not bit_is_set(
        decode_bits(claims["credentialSubject"]["encodedList"]), seal.status_list_index
    )
    assert all(
        jwt_parts(sl.jwt)[0]["kid"] != key_kid(signer)
        for sl in StatusList.objects.filter(issuer=issuer).exclude(jwt="")
    )


@pytest.fixture
def disk_cache(settings, tmp_path):
    """The embedded default's cache in a folder of the test's own: unlike Redis, it keeps the
    clock time-machine moves, so an entry's expiry can be travelled to."""
    settings.CACHES = {"default": {"BACKEND": "diskcache.DjangoCache", "LOCATION": str(tmp_path)}}


@pytest.mark.django_db(transaction=True)
def test_a_list_whose_cache_put_was_missed_is_served_fresh_within_its_ttl_plus_a_minute(
    issuer, client, disk_cache, monkeypatch
):
    from seals import status_lists

    with time_machine.travel(NOW, tick=False) as traveller:
        seal = award(MemberFactory(issuer=issuer))
        regenerate_status_lists()
        _served_list(client, issuer)  # the old list, now in the cache
        seal_revoke(seal=seal, reason="fraud", actor="test")
        traveller.shift(settings.STATUS_LIST_REGENERATE_SECONDS)
        with monkeypatch.context() as patch:
            # The worker's put after its commit never lands (a cache outage, a kill).
            patch.setattr(status_lists.transaction, "on_commit", lambda callback: None)
            assert regenerate_status_lists() == 2  # both lists of that number
        stale = _served_list(client, issuer)[1]["credentialSubject"]["encodedList"]
        traveller.move_to(NOW + timedelta(seconds=status_lists.LIST_TTL_MS / 1000 + 60))
        fresh = _served_list(client, issuer)[1]["credentialSubject"]["encodedList"]
    assert not bit_is_set(decode_bits(stale), seal.status_list_index)  # the put was missed
    assert bit_is_set(decode_bits(fresh), seal.status_list_index)


def test_a_missed_cache_put_still_reaches_the_origin_within_the_lists_ttl_plus_a_minute():
    from seals.status_lists import _CACHE_SECONDS, LIST_TTL_MS

    interval = settings.CELERY_BEAT_SCHEDULE["regenerate-status-lists"]["schedule"]
    signing = 5  # the beat message picked up and the list signed
    assert interval + signing + _CACHE_SECONDS <= LIST_TTL_MS / 1000 + 60


@pytest.mark.django_db
def test_a_change_marks_its_lists_dirty_in_its_own_transaction(issuer):
    # This test's transaction never commits, so no on-commit callback runs: the mark must be a
    # write of the change itself, or a process dying right after the commit would lose it.
    seal = award(MemberFactory(issuer=issuer))
    lists = StatusList.objects.filter(issuer=issuer, number=seal.status_list)
    before = dict(lists.values_list("purpose", "version"))
    seal_revoke(seal=seal, reason="fraud", actor="test")
    after = dict(lists.values_list("purpose", "version"))
    assert after == {purpose: version + 1 for purpose, version in before.items()}
    assert len(after) == 2


@pytest.mark.django_db
def test_a_rolled_back_change_leaves_its_lists_clean(issuer):
    from django.db import transaction

    seal = award(MemberFactory(issuer=issuer))
    lists = StatusList.objects.filter(issuer=issuer, number=seal.status_list)
    before = sorted(lists.values_list("version", flat=True))
    with pytest.raises(RuntimeError), transaction.atomic():
        seal_revoke(seal=seal, reason="fraud", actor="test")
        raise RuntimeError("the request failed after the revocation")
    assert sorted(lists.values_list("version", flat=True)) == before
