"""did:web per issuer and the credential secured by an eddsa-rdfc-2022 Data Integrity proof."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime

import pytest
import time_machine
from django.test import override_settings

from seals import multibase
from seals.credentials import credential_data_integrity, credential_jwt
from seals.keys import (
    data_integrity_key,
    issuer_did,
    issuer_did_document,
    issuer_jwks,
    key_kid,
    signing_key_active,
    signing_key_revoke,
    signing_key_rotate,
)
from seals.models import SigningKey
from seals.registry import issuer_credentials_use_did_set
from seals.services import seal_revoke, seal_suspend
from seals.status_lists import status_lists_regenerate_dirty
from seals.verification import verify_document, verify_jwt
from tests.factories import MemberFactory, award
from tests.seals.credential_checks import jwt_parts, ob3_schema_errors

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
HOST = "http://127.0.0.1:8000"


@pytest.fixture
def seal(issuer):
    with time_machine.travel(NOW, tick=False):
        return award(MemberFactory(issuer=issuer))


def test_the_did_encodes_the_port_and_the_issuers_path(issuer):
    assert issuer_did(issuer) == f"did:web:127.0.0.1%3A8000:issuers:{issuer.slug}"
    with override_settings(PUBLIC_BASE_URL="https://seals.example.org"):
        assert issuer_did(issuer) == f"did:web:seals.example.org:issuers:{issuer.slug}"


def test_the_did_document_resolves_at_did_json_with_the_jwks_keys(seal, client):
    data_integrity_key(seal.issuer)
    response = client.get(f"/issuers/{seal.issuer.slug}/did.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/did+ld+json"
    document = response.json()
    did = issuer_did(seal.issuer)
    assert document["id"] == did and document["@context"][0] == "https://www.w3.org/ns/did/v1"
    methods = {m["id"]: m for m in document["verificationMethod"]}
    jwks = {k["kid"].rsplit("/", 1)[-1]: k for k in issuer_jwks(seal.issuer)["keys"]}
    assert set(methods) == {f"{did}#{key_id}" for key_id in jwks}
    assert document["assertionMethod"] == list(methods)
    for method in methods.values():
        jwk = jwks[method["id"].rsplit("#", 1)[-1]]
        assert method["controller"] == did
        if jwk["kty"] == "OKP":
            # Multikey: base58btc of 0xed01 + the same 32 bytes as the JWK's x.
            assert method["type"] == "Multikey"
            raw = multibase.decode(method["publicKeyMultibase"])
            assert raw[:2] == b"\xed\x01" and len(raw) == 34
        else:
            assert method["type"] == "JsonWebKey2020" and method["publicKeyJwk"] == jwk


def test_retired_keys_stay_in_the_did_document_and_revoked_ones_leave_it(
    seal, django_capture_on_commit_callbacks
):
    first = signing_key_active(seal.issuer)
    assert len(issuer_did_document(seal.issuer)["verificationMethod"]) == 1
    with django_capture_on_commit_callbacks(execute=True):
        signing_key_rotate(issuer=seal.issuer)
    ids = [m["id"] for m in issuer_did_document(seal.issuer)["verificationMethod"]]
    assert f"{issuer_did(seal.issuer)}#{first.key_id}" in ids and len(ids) == 2
    with django_capture_on_commit_callbacks(execute=True):
        signing_key_revoke(key=first)
    ids = [m["id"] for m in issuer_did_document(seal.issuer)["verificationMethod"]]
    assert f"{issuer_did(seal.issuer)}#{first.key_id}" not in ids and len(ids) == 1


def test_the_profile_names_its_did(seal, client):
    response = client.get(f"/issuers/{seal.issuer.slug}")
    assert response["Content-Type"] == "application/ld+json"
    assert response.json()["alsoKnownAs"] == [issuer_did(seal.issuer)]


def test_the_ed25519_key_is_made_once_on_first_use_and_never_signs_jwts(seal):
    assert not seal.issuer.signing_keys.filter(algorithm="EdDSA").exists()
    key = data_integrity_key(seal.issuer)
    assert data_integrity_key(seal.issuer) == key and key.algorithm == "EdDSA"
    assert signing_key_active(seal.issuer).algorithm == "ES256"
    assert jwt_parts(credential_jwt(seal))[0]["alg"] == "ES256"
    published = {k["kid"]: k for k in issuer_jwks(seal.issuer)["keys"]}
    assert published[key_kid(key)] | {} == {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": key.public_jwk["x"],
        "kid": key_kid(key),
        "alg": "EdDSA",
        "use": "sig",
    }


def test_rotating_the_ed25519_key_leaves_the_jwt_key_alone(seal):
    jwt_key = signing_key_active(seal.issuer)
    old = data_integrity_key(seal.issuer)
    new = signing_key_rotate(issuer=seal.issuer, algorithm="EdDSA")
    old.refresh_from_db()
    assert old.state == SigningKey.State.RETIRED and new.algorithm == "EdDSA"
    assert signing_key_active(seal.issuer) == jwt_key and data_integrity_key(seal.issuer) == new


def test_the_data_integrity_credential_verifies_and_names_the_did(seal, client):
    response = client.get(f"/s/{seal.public_id}/credential.json")
    assert response.status_code == 200 and response["Content-Type"] == "application/vc"
    document = json.loads(response.content)
    proof = document["proof"][0]
    assert proof["type"] == "DataIntegrityProof" and proof["cryptosuite"] == "eddsa-rdfc-2022"
    assert proof["proofPurpose"] == "assertionMethod"
    assert proof["verificationMethod"].startswith(issuer_did(seal.issuer) + "#")
    assert proof["proofValue"].startswith("z")
    assert document["issuer"]["id"] == issuer_did(seal.issuer)
    status = document["credentialStatus"]
    assert (
        status["statusListCredential"]
        == f"{HOST}/issuers/{seal.issuer.slug}/status/revocation.json"
    )
    assert ob3_schema_errors(document) == []
    result = verify_document(document)
    assert result.valid, result.reason
    assert [c.name for c in result.checks] == [
        "format",
        "algorithm",
        "kid",
        "signature",
        "issuer",
        "time",
        "schema",
        "status",
    ]


def test_it_refuses_a_changed_data_integrity_credential(seal):
    document = copy.deepcopy(credential_data_integrity(seal))
    document["credentialSubject"]["achievement"]["name"] = "Something else"
    result = verify_document(document)
    assert not result.valid and result.failed == "signature"


def test_it_refuses_an_undefined_term_the_proof_would_not_cover(seal):
    document = {**credential_data_integrity(seal), "smuggled": "unsigned"}
    result = verify_document(document)
    assert not result.valid and result.failed == "signature" and "smuggled" in result.reason


def test_it_refuses_a_proof_by_a_revoked_ed25519_key(seal):
    document = credential_data_integrity(seal)
    signing_key_revoke(key=data_integrity_key(seal.issuer))
    result = verify_document(document)
    assert not result.valid and result.failed == "kid"


def test_the_data_integrity_credential_shows_revocation(seal):
    document = credential_data_integrity(seal)
    seal_revoke(seal=seal, reason="fraud", actor="test")
    status_lists_regenerate_dirty()
    result = verify_document(document)
    assert not result.valid and result.failed == "status"


def test_the_data_integrity_status_list_verifies_with_the_same_bits(seal, client):
    seal_suspend(seal=seal, reason="audit", actor="test")
    status_lists_regenerate_dirty()
    jwt_list = client.get(f"/issuers/{seal.issuer.slug}/status/suspension").content.decode()
    response = client.get(f"/issuers/{seal.issuer.slug}/status/suspension.json")
    assert response.status_code == 200 and response["Content-Type"] == "application/vc"
    document = json.loads(response.content)
    result = verify_document(document)
    assert result.valid and result.kind == "status_list", result.reason
    _, payload = jwt_parts(jwt_list)
    subject = payload["credentialSubject"]
    assert document["credentialSubject"]["encodedList"] == subject["encodedList"]
    assert document["issuer"] == issuer_did(seal.issuer)


def test_an_issuer_that_opts_for_its_did_signs_as_it(seal, client):
    issuer_credentials_use_did_set(issuer=seal.issuer, enabled=True)
    seal.issuer.refresh_from_db()
    did = issuer_did(seal.issuer)
    token = client.get(f"/s/{seal.public_id}/credential.jwt").content.decode()
    header, payload = jwt_parts(token)
    assert header["kid"] == f"{did}#{signing_key_active(seal.issuer).key_id}"
    assert payload["iss"] == payload["issuer"]["id"] == did
    status_lists_regenerate_dirty()
    _, revocation = jwt_parts(
        client.get(f"/issuers/{seal.issuer.slug}/status/revocation").content.decode()
    )
    assert revocation["iss"] == revocation["issuer"] == did
    result = verify_jwt(token)
    assert result.valid, result.reason


def test_a_did_kid_must_sign_as_the_did(seal):
    issuer_credentials_use_did_set(issuer=seal.issuer, enabled=True)
    seal.issuer.refresh_from_db()
    token = credential_jwt(seal)
    import jwt as pyjwt

    from seals.keys import signing_key_private

    key = signing_key_active(seal.issuer)
    payload = {**jwt_parts(token)[1], "iss": f"{HOST}/issuers/{seal.issuer.slug}"}
    forged = pyjwt.encode(
        payload,
        signing_key_private(key),
        algorithm="ES256",
        headers={"kid": jwt_parts(token)[0]["kid"], "typ": "JWT"},
    )
    result = verify_jwt(forged)
    assert not result.valid and result.failed == "issuer"


def test_the_issuerdid_command_switches_the_issuer_to_its_did_and_back(seal, capsys):
    from django.core.management import call_command

    call_command("issuerdid", seal.issuer.slug)
    seal.issuer.refresh_from_db()
    assert seal.issuer.credentials_use_did is True
    assert f"signs as {issuer_did(seal.issuer)}" in capsys.readouterr().out
    call_command("issuerdid", seal.issuer.slug, "--off")
    seal.issuer.refresh_from_db()
    assert seal.issuer.credentials_use_did is False


def test_the_admin_switch_marks_the_status_lists_for_re_signing(seal, admin_client):
    from seals.models import StatusList

    versions = dict(StatusList.objects.filter(issuer=seal.issuer).values_list("pk", "version"))
    issuer = seal.issuer
    response = admin_client.post(
        f"/console/admin/issuers/issuer/{issuer.pk}/change/",
        {
            "slug": issuer.slug,
            "name": issuer.name,
            "kind": issuer.kind,
            "website": issuer.website,
            "description": "",
            "public_email": "",
            "status": issuer.status,
            "time_zone": issuer.time_zone,
            "credentials_use_did": "on",
        },
    )
    assert response.status_code == 302, response.content[:500]
    issuer.refresh_from_db()
    assert issuer.credentials_use_did is True
    for pk, version in StatusList.objects.filter(issuer=issuer).values_list("pk", "version"):
        assert version == versions[pk] + 1


def test_the_command_verifies_baked_badges_and_data_integrity_files(
    seal, client, tmp_path, django_capture_on_commit_callbacks
):
    from django.core.management import call_command

    with django_capture_on_commit_callbacks(execute=True):
        data_integrity_key(seal.issuer)  # created on first use; the JWKS forgets once committed
    for name, path in (
        ("badge.png", f"/s/{seal.public_id}/badge.png"),
        ("badge.svg", f"/s/{seal.public_id}/badge.svg"),
        ("credential.json", f"/s/{seal.public_id}/credential.json"),
    ):
        file = tmp_path / name
        file.write_bytes(client.get(path).content)
        call_command("verifycredential", str(file))


def test_a_jwt_signed_by_the_ed25519_key_is_refused(seal):
    import jwt as pyjwt

    from seals.keys import signing_key_private

    key = data_integrity_key(seal.issuer)
    token = pyjwt.encode(
        jwt_parts(credential_jwt(seal))[1],
        signing_key_private(key),
        algorithm="EdDSA",
        headers={"kid": key_kid(key), "typ": "JWT"},
    )
    result = verify_jwt(token)
    assert not result.valid and result.failed == "algorithm"


def test_a_proof_naming_a_jwt_key_is_refused(seal):
    document = copy.deepcopy(credential_data_integrity(seal))
    jwt_key = signing_key_active(seal.issuer)
    document["proof"][0]["verificationMethod"] = f"{issuer_did(seal.issuer)}#{jwt_key.key_id}"
    result = verify_document(document)
    assert not result.valid and result.failed == "algorithm"


def test_a_document_with_a_remote_context_is_refused_without_fetching(seal, monkeypatch):
    import socket

    def no_network(*args, **kwargs):
        raise AssertionError("the verifier tried the network")

    monkeypatch.setattr(socket, "create_connection", no_network)
    document = copy.deepcopy(credential_data_integrity(seal))
    document["@context"] = [*document["@context"], "https://attacker.example/context.jsonld"]
    result = verify_document(document)
    assert not result.valid and result.failed == "signature"
