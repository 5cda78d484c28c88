"""The OB 3.0 credential of a seal, its keys and their publication."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from config.errors import InvalidInputError
from seals.credentials import credential_jwt, credential_payload
from seals.keys import (
    issuer_jwks,
    signing_key_active,
    signing_key_private_pem,
    signing_key_revoke,
    signing_key_rotate,
)
from seals.models import SigningKey
from seals.registry import issuer_update, member_update, programme_update
from seals.services import seal_renew
from seals.verification import credential_without_jwt_claims, verify_jwt
from tests.factories import MemberFactory, award
from tests.seals.credential_checks import (
    jsonld_undefined_terms,
    jwcrypto_claims,
    jwt_parts,
    ob3_schema_errors,
    vc2_schema_errors,
)

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)


@pytest.fixture
def seal(issuer):
    with time_machine.travel(NOW, tick=False):
        return award(MemberFactory(issuer=issuer))


def test_the_header_is_exactly_alg_kid_and_typ_jwt(seal, client):
    header, _ = jwt_parts(credential_jwt(seal))
    key = signing_key_active(seal.issuer)
    kid = f"http://127.0.0.1:8000/issuers/{seal.issuer.slug}/keys/{key.key_id}"
    assert header == {"alg": "ES256", "kid": kid, "typ": "JWT"}


def test_the_kid_url_answers_the_bare_public_jwk(seal, client):
    header, _ = jwt_parts(credential_jwt(seal))
    response = client.get(header["kid"].removeprefix("http://127.0.0.1:8000"))
    assert response.status_code == 200
    bare = response.json()
    assert bare["kty"] == "EC" and bare["crv"] == "P-256" and bare["kid"] == header["kid"]
    assert "d" not in bare and "keys" not in bare
    assert jwcrypto_claims(credential_jwt(seal), {"keys": [bare]})["sub"]


def test_the_payload_is_the_credential_plus_iss_sub_jti_nbf_exp(seal):
    _, payload = jwt_parts(credential_jwt(seal))
    credential = credential_without_jwt_claims(payload)
    assert set(payload) - set(credential) == {"iss", "sub", "jti", "nbf", "exp"}
    assert payload["iss"] == credential["issuer"]["id"]
    assert payload["sub"] == credential["credentialSubject"]["id"]
    assert payload["jti"] == credential["id"]
    assert payload["nbf"] == int(seal.valid_from.timestamp())
    assert payload["exp"] == int(seal.expires_at.timestamp())
    assert credential["validFrom"] == "2026-03-01T12:00:00Z"  # whole seconds
    assert credential["validUntil"] == seal.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert credential["type"] == ["VerifiableCredential", "OpenBadgeCredential"]


def test_its_single_credential_status_is_the_revocation_entry(seal):
    status = credential_payload(seal)["credentialStatus"]
    assert status["type"] == "BitstringStatusListEntry"
    assert status["statusPurpose"] == "revocation"
    assert status["statusListIndex"] == str(seal.status_list_index)
    assert status["statusListCredential"].endswith(f"/issuers/{seal.issuer.slug}/status/revocation")


def test_the_credential_validates_against_the_ob3_schema(seal):
    credential = credential_without_jwt_claims(credential_payload(seal))
    assert ob3_schema_errors(credential) == []
    assert vc2_schema_errors(credential) == []


def test_the_schema_check_itself_catches_a_broken_credential(seal):
    credential = credential_without_jwt_claims(credential_payload(seal))
    credential["validFrom"] = "yesterday"
    credential["credentialStatus"] = [credential["credentialStatus"]]
    assert len(ob3_schema_errors(credential)) >= 2


def test_the_credential_has_no_undefined_json_ld_term(seal):
    """``jti`` is a JOSE-layer claim that neither credentials/v2 nor the published OB 3.0.3
    context defines: the credential proper has no undefined term, the full payload only jti."""
    payload = credential_payload(seal)
    assert jsonld_undefined_terms(credential_without_jwt_claims(payload)) == set()
    assert jsonld_undefined_terms(payload) == {"jti"}


def test_the_strict_json_ld_check_reports_an_invented_term(seal):
    credential = credential_without_jwt_claims(credential_payload(seal))
    credential["credentialSubject"]["shoeSize"] = 44
    assert jsonld_undefined_terms(credential) == {"shoeSize"}


def test_jwcrypto_verifies_the_served_credential_with_the_served_jwks(seal, client):
    response = client.get(f"/s/{seal.public_id}/credential.jwt")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vc+jwt"
    assert "public" in response["Cache-Control"] and not response.cookies
    jwks = client.get(f"/issuers/{seal.issuer.slug}/jwks.json").json()
    with time_machine.travel(NOW + timedelta(minutes=1), tick=False):
        claims = jwcrypto_claims(response.content.decode(), jwks)
    assert claims["credentialSubject"]["achievement"]["name"] == seal.programme.name


def test_the_jwks_lists_kid_alg_and_use_and_no_private_member(seal, client):
    response = client.get(f"/issuers/{seal.issuer.slug}/jwks.json")
    assert not response.cookies and "max-age" in response["Cache-Control"]
    (key,) = response.json()["keys"]
    assert {"kid", "alg", "use"} <= set(key) and key["use"] == "sig"
    assert not {"d", "p", "q", "dp", "dq", "qi"} & set(key)


def test_rs256_is_an_option(seal):
    signing_key_rotate(issuer=seal.issuer, algorithm=SigningKey.Algorithm.RS256)
    token = credential_jwt(seal)
    header, _ = jwt_parts(token)
    assert header["alg"] == "RS256"
    with time_machine.travel(NOW, tick=False):
        assert jwcrypto_claims(token, issuer_jwks(seal.issuer))["jti"]
        result = verify_jwt(token)
    assert result.valid and result.checks[1].detail == "RS256"


def test_it_refuses_an_unknown_algorithm(issuer):
    with pytest.raises(InvalidInputError, match="ES256, RS256 or EdDSA") as refused:
        signing_key_rotate(issuer=issuer, algorithm="HS256")
    assert refused.value.field == "algorithm"
    assert issuer.signing_keys.count() == 1


def test_the_credential_is_cached_per_seal_version_and_reissued_on_renewal(seal):
    first = credential_jwt(seal)
    assert credential_jwt(seal) == first
    with time_machine.travel(NOW + timedelta(days=1), tick=False):
        renewed = seal_renew(
            seal=seal, expires_at=NOW + timedelta(days=800), reason="paid", actor="test"
        )
    second = credential_jwt(renewed)
    assert second != first
    _, payload = jwt_parts(second)
    assert payload["validUntil"] == (NOW + timedelta(days=800)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert payload["jti"] != jwt_parts(first)[1]["jti"]


def test_renaming_member_issuer_or_programme_reissues_the_credential_at_once(seal, client):
    """A rename changes no seal row (no version bump): the served credential must still say
    the new name on the next fetch, under a new id, and verify."""
    url = f"/s/{seal.public_id}/credential.jwt"
    jwks = client.get(f"/issuers/{seal.issuer.slug}/jwks.json").json()
    first = client.get(url).content.decode()
    assert client.get(url).content.decode() == first  # unchanged content: the cached token
    seen_jtis = {jwt_parts(first)[1]["jti"]}
    renames = [
        lambda: member_update(
            member=seal.member, legal_name="Renamed Legal Ltd", display_name="Renamed Shop"
        ),
        lambda: issuer_update(issuer=seal.issuer, name="Renamed Guild"),
        lambda: programme_update(programme=seal.programme, name="Renamed Programme"),
    ]
    for rename in renames:
        version = type(seal).objects.get(pk=seal.pk).version
        rename()
        token = client.get(url).content.decode()
        _, payload = jwt_parts(token)
        assert payload["jti"] not in seen_jtis and payload["jti"] == payload["id"]
        seen_jtis.add(payload["jti"])
        with time_machine.travel(NOW + timedelta(minutes=1), tick=False):
            assert jwcrypto_claims(token, jwks)["jti"] == payload["jti"]
            assert verify_jwt(token).valid
        # Renames leave the seal row alone: only the credential's content digest moved.
        assert type(seal).objects.get(pk=seal.pk).version == version
    subject = payload["credentialSubject"]
    assert subject["identifier"][0]["identityHash"] == "Renamed Legal Ltd"
    assert payload["issuer"]["name"] == "Renamed Guild"
    assert subject["achievement"]["name"] == "Renamed Programme"
    assert payload["name"] == "Renamed Programme: Renamed Shop"


def test_the_same_content_keeps_its_id_across_unrelated_version_bumps(seal):
    first = credential_payload(seal)
    seal.version += 1
    assert credential_payload(seal)["id"] == first["id"]


def test_after_two_rotations_the_first_keys_credentials_still_verify(seal, client):
    first = credential_jwt(seal)
    signing_key_rotate(issuer=seal.issuer)
    signing_key_rotate(issuer=seal.issuer)
    third = credential_jwt(seal)
    assert jwt_parts(third)[0]["kid"] != jwt_parts(first)[0]["kid"]
    jwks = client.get(f"/issuers/{seal.issuer.slug}/jwks.json").json()
    assert len(jwks["keys"]) == 3
    states = sorted(seal.issuer.signing_keys.values_list("state", flat=True))
    assert states == ["active", "retired", "retired"]
    with time_machine.travel(NOW, tick=False):
        assert jwcrypto_claims(first, jwks)["jti"] == jwcrypto_claims(third, jwks)["jti"]
        assert verify_jwt(first).checks[3].ok and verify_jwt(third).checks[3].ok


def test_a_revoked_keys_credentials_fail_verification(seal, client):
    first = credential_jwt(seal)
    old = signing_key_active(seal.issuer)
    signing_key_rotate(issuer=seal.issuer)
    signing_key_revoke(key=old)
    jwks = client.get(f"/issuers/{seal.issuer.slug}/jwks.json").json()
    assert old.key_id not in json.dumps(jwks)
    assert client.get(f"/issuers/{seal.issuer.slug}/keys/{old.key_id}").status_code == 404
    result = verify_jwt(first, now=NOW)
    assert (result.valid, result.failed) == (False, "kid")
    with pytest.raises(Exception, match=r"[Kk]ey"):
        jwcrypto_claims(first, jwks)


def test_revoking_the_active_key_rotates_first_so_the_issuer_can_still_sign(seal):
    old = signing_key_active(seal.issuer)
    signing_key_revoke(key=old)
    new = signing_key_active(seal.issuer)
    assert new.pk != old.pk
    assert jwt_parts(credential_jwt(seal))[0]["kid"].endswith(new.key_id)


def test_the_private_key_is_stored_encrypted_and_the_kek_can_be_rotated(seal, settings):
    key = signing_key_active(seal.issuer)
    assert b"PRIVATE KEY" not in bytes(key.private_key_encrypted)
    new_kek = Fernet.generate_key().decode()
    with override_settings(KEY_ENCRYPTION_KEYS=[new_kek, *settings.KEY_ENCRYPTION_KEYS]):
        call_command("rotatekeys", stdout=open("/dev/null", "w"))  # noqa: SIM115
    key.refresh_from_db()
    with override_settings(KEY_ENCRYPTION_KEYS=[new_kek]):
        assert b"PRIVATE KEY" in signing_key_private_pem(key)
        assert credential_jwt(seal).count(".") == 2


def test_the_issuer_profile_announces_keys_and_both_status_lists(seal, client):
    response = client.get(f"/issuers/{seal.issuer.slug}")
    assert response.status_code == 200 and not response.cookies
    profile = response.json()
    assert profile["type"] == ["Profile"] and profile["name"] == seal.issuer.name
    assert profile["id"] == f"http://127.0.0.1:8000/issuers/{seal.issuer.slug}"
    assert profile["revocationStatusLists"] == [f"{profile['id']}/status/revocation"]
    assert profile["suspensionStatusLists"] == [f"{profile['id']}/status/suspension"]
    assert profile["jwks"] == f"{profile['id']}/jwks.json"
    assert jsonld_undefined_terms(profile) == set()


def test_unknown_issuers_keys_and_seals_are_404(client, issuer):
    assert client.get("/issuers/nobody").status_code == 404
    assert client.get(f"/issuers/{issuer.slug}/keys/nope").status_code == 404
    assert client.get("/s/AAAAAAAAAAAAAAAAAAAAAA/credential.jwt").status_code == 404
    assert client.get("/s/short/credential.jwt").status_code == 404


def test_timestamps_are_whole_seconds_even_from_fractional_times(seal):
    assert seal.valid_from.microsecond == 123456
    payload = credential_payload(seal)
    assert payload["validFrom"].endswith(":00Z") and isinstance(payload["nbf"], int)
    assert timezone.is_aware(seal.valid_from)
