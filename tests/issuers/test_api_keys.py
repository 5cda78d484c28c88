"""Signing keys and a seal's credential in the issuer API: list, rotate, revoke, credential."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from django.test import Client

from seals.credentials import credential_jwt
from seals.keys import issuer_jwks, signing_key_active
from seals.models import SigningKey
from seals.verification import verify_jwt
from tests.api_support import Api, problem
from tests.factories import MemberFactory, award
from tests.seals.credential_checks import jwcrypto_claims, jwt_parts

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


@pytest.fixture
def seal(api):
    with time_machine.travel(NOW, tick=False):
        return award(MemberFactory(issuer=api.issuer))


def _jwks(issuer) -> dict:
    return Client().get(f"/issuers/{issuer.slug}/jwks.json").json()


def test_it_lists_the_issuers_keys_with_their_public_jwk_only(api):
    response = api.get("/keys")
    assert response.status_code == 200
    (key,) = response.json()["results"]
    active = signing_key_active(api.issuer)
    assert key["key_id"] == active.key_id and key["state"] == "active"
    assert key["algorithm"] == "ES256"
    assert key["kid"] == f"http://127.0.0.1:8000/issuers/{api.issuer.slug}/keys/{active.key_id}"
    assert key["public_jwk"]["kid"] == key["kid"] and key["public_jwk"]["use"] == "sig"
    assert not {"d", "p", "q", "dp", "dq", "qi"} & set(key["public_jwk"])
    assert "private" not in response.content.decode()
    assert key["retired_at"] is None and key["revoked_at"] is None


def test_it_lists_no_key_of_another_issuer(api, other_api):
    mine = {k["key_id"] for k in api.get("/keys").json()["results"]}
    theirs = {k["key_id"] for k in other_api.get("/keys").json()["results"]}
    assert mine and theirs and not mine & theirs


def test_rotating_makes_the_new_key_sign_and_old_credentials_keep_verifying(api, seal):
    old_token = credential_jwt(seal)
    old = signing_key_active(api.issuer)
    response = api.post("/keys/rotate", {"algorithm": "RS256"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["algorithm"] == "RS256" and body["state"] == "active"
    assert body["public_jwk"]["kty"] == "RSA"
    new_token = credential_jwt(seal)
    assert jwt_parts(new_token)[0]["kid"] == body["kid"] != jwt_parts(old_token)[0]["kid"]
    old.refresh_from_db()
    assert old.state == SigningKey.State.RETIRED and old.retired_at is not None
    jwks = _jwks(api.issuer)
    with time_machine.travel(NOW, tick=False):
        assert verify_jwt(old_token).valid, verify_jwt(old_token).reason
        assert verify_jwt(new_token).valid
        assert jwcrypto_claims(old_token, jwks)["jti"] == jwcrypto_claims(new_token, jwks)["jti"]
    states = [k["state"] for k in api.get("/keys").json()["results"]]
    assert states == ["active", "retired"]  # newest first


def test_rotating_without_a_body_keeps_the_algorithm(api):
    response = api.post("/keys/rotate")
    assert response.status_code == 201 and response.json()["algorithm"] == "ES256"
    assert api.issuer.signing_keys.count() == 2


def test_it_refuses_an_unknown_algorithm_and_changes_nothing(api):
    before = signing_key_active(api.issuer)
    body = problem(api.post("/keys/rotate", {"algorithm": "HS256"}))
    assert body["status"] == 400 and body["errors"][0]["field"] == "algorithm"
    assert signing_key_active(api.issuer) == before and api.issuer.signing_keys.count() == 1


def test_revoking_a_retired_key_removes_it_from_the_jwks(api, seal):
    token = credential_jwt(seal)
    old = signing_key_active(api.issuer)
    api.post("/keys/rotate")
    response = api.post(f"/keys/{old.key_id}/revoke")
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "revoked" and response.json()["revoked_at"]
    assert old.key_id not in str(_jwks(api.issuer))
    result = verify_jwt(token, now=NOW)
    assert (result.valid, result.failed) == (False, "kid")


def test_revoking_the_active_key_rotates_first(api):
    old = signing_key_active(api.issuer)
    assert api.post(f"/keys/{old.key_id}/revoke").status_code == 200
    new = signing_key_active(api.issuer)
    assert new.pk != old.pk
    assert [k["kid"] for k in issuer_jwks(api.issuer)["keys"]] == [
        f"http://127.0.0.1:8000/issuers/{api.issuer.slug}/keys/{new.key_id}"
    ]


def test_it_refuses_to_revoke_a_revoked_key_with_409(api):
    old = signing_key_active(api.issuer)
    api.post(f"/keys/{old.key_id}/revoke")
    body = problem(api.post(f"/keys/{old.key_id}/revoke"))
    assert body["status"] == 409 and body["code"] == "key_state_conflict"
    assert "final" in body["detail"]


def test_another_issuers_key_is_not_found(api, other_api):
    theirs = signing_key_active(other_api.issuer)
    body = problem(api.post(f"/keys/{theirs.key_id}/revoke"))
    assert body["status"] == 404
    theirs.refresh_from_db()
    assert theirs.state == SigningKey.State.ACTIVE


def test_it_needs_the_write_scope_to_rotate_or_revoke_and_read_to_list(api):
    reader = Api(api.issuer, scopes=["read"])
    writer = Api(api.issuer, scopes=["write"])
    key = signing_key_active(api.issuer)
    assert reader.get("/keys").status_code == 200
    assert problem(reader.post("/keys/rotate"))["required_scope"] == "write"
    assert problem(reader.post(f"/keys/{key.key_id}/revoke"))["status"] == 403
    assert problem(writer.get("/keys"))["required_scope"] == "read"
    assert api.issuer.signing_keys.count() == 1
    assert signing_key_active(api.issuer) == key


def test_the_credential_endpoint_returns_a_jwt_that_verifies(api, seal):
    response = api.get(f"/seals/{seal.public_id}/credential")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["seal"] == seal.public_id
    assert body["header"] == jwt_parts(body["jwt"])[0]
    assert body["payload"] == jwt_parts(body["jwt"])[1]
    assert body["payload"]["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    with time_machine.travel(NOW, tick=False):
        result = verify_jwt(body["jwt"])
    assert result.valid, result.reason
    assert jwcrypto_claims(body["jwt"], _jwks(api.issuer))["jti"] == body["payload"]["jti"]


def test_another_issuers_seal_credential_is_not_found(other_api, seal):
    assert problem(other_api.get(f"/seals/{seal.public_id}/credential"))["status"] == 404


def test_the_credential_needs_the_read_scope(api, seal):
    writer = Api(api.issuer, scopes=["write"])
    assert problem(writer.get(f"/seals/{seal.public_id}/credential"))["status"] == 403
