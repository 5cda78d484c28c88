"""Forged and hostile JWTs against every verifying path: the service, POST /verify/credential
and ``manage.py verifycredential``. Each attack must fail on the named check, on all three, and
no path may fetch a key from anywhere a token points to.

tests/seals/test_verification.py covers the service against alg none, HS256 with the public key,
a swapped kid, a foreign kid with an embedded jwk, expiry and a tampered payload; here each of
those and the rest run through all three paths.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import jwt
import pytest
import requests
import time_machine
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.core.management import CommandError, call_command

from seals.credentials import credential_jwt, credential_payload, jwt_sign
from seals.keys import issuer_jwks, signing_key_active, signing_key_private_pem
from seals.verification import verify_jwt
from tests.factories import IssuerFactory, MemberFactory, award
from tests.seals.credential_checks import b64, forge, jwt_parts

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
ATTACKER = ec.generate_private_key(ec.SECP256R1())
ATTACKER_JWK = jwt.algorithms.ECAlgorithm.to_jwk(ATTACKER.public_key(), as_dict=True)


@pytest.fixture
def seal(issuer):
    with time_machine.travel(NOW, tick=False):
        return award(MemberFactory(issuer=issuer))


def _kid(seal) -> str:
    return issuer_jwks(seal.issuer)["keys"][0]["kid"]


def _with_kid(seal, kid) -> str:
    return jwt.encode(credential_payload(seal), ATTACKER, "ES256", headers={"kid": kid})


def _alg_none(seal) -> str:
    return forge({"alg": "none", "kid": _kid(seal), "typ": "JWT"}, credential_payload(seal))


def _alg_none_capitals(seal) -> str:
    return forge({"alg": "nOnE", "kid": _kid(seal), "typ": "JWT"}, credential_payload(seal))


def _hs256_public_key(seal) -> str:
    public_pem = (
        serialization.load_pem_private_key(
            signing_key_private_pem(signing_key_active(seal.issuer)), None
        )
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    header = {"alg": "HS256", "kid": _kid(seal), "typ": "JWT"}
    return forge(header, credential_payload(seal), hmac_key=public_pem)


def _hs256_public_jwk(seal) -> str:
    header = {"alg": "HS256", "kid": _kid(seal), "typ": "JWT"}
    secret = json.dumps(issuer_jwks(seal.issuer)["keys"][0]).encode()
    return forge(header, credential_payload(seal), hmac_key=secret)


def _unknown_kid(seal) -> str:
    return _with_kid(seal, f"{settings.PUBLIC_BASE_URL}/issuers/{seal.issuer.slug}/keys/nope")


def _kid_path_traversal(seal) -> str:
    return _with_kid(
        seal, f"{settings.PUBLIC_BASE_URL}/issuers/{seal.issuer.slug}/keys/../../../etc/passwd"
    )


def _kid_file_path(seal) -> str:
    return _with_kid(seal, "../../../../var/trustseal/keys/private.pem")


def _kid_foreign_host(seal) -> str:
    return _with_kid(seal, f"https://evil.example/issuers/{seal.issuer.slug}/keys/k1")


def _kid_lookalike_host(seal) -> str:
    return _with_kid(seal, f"{settings.PUBLIC_BASE_URL}.evil.example/issuers/x/keys/k1")


def _kid_sql(seal) -> str:
    return _with_kid(seal, f"{settings.PUBLIC_BASE_URL}/issuers/x' OR '1'='1/keys/k1")


def _kid_not_a_string(seal) -> str:
    # PyJWT will not write a non-string kid, so the token is assembled by hand.
    header = {"alg": "ES256", "kid": ["a", {"$ne": None}], "typ": "JWT"}
    signing_input = f"{b64(json.dumps(header).encode())}."
    signing_input += b64(json.dumps(credential_payload(seal)).encode())
    signature = jwt.algorithms.ECAlgorithm(jwt.algorithms.ECAlgorithm.SHA256).sign(
        signing_input.encode(), ATTACKER
    )
    return f"{signing_input}.{b64(signature)}"


def _jku(seal) -> str:
    headers = {"kid": _kid(seal), "jku": "https://evil.example/jwks.json"}
    return jwt.encode(credential_payload(seal), ATTACKER, "ES256", headers=headers)


def _x5u(seal) -> str:
    headers = {"kid": _kid(seal), "x5u": "https://evil.example/cert.pem"}
    return jwt.encode(credential_payload(seal), ATTACKER, "ES256", headers=headers)


def _embedded_jwk(seal) -> str:
    headers = {"kid": _kid(seal), "jwk": ATTACKER_JWK}
    return jwt.encode(credential_payload(seal), ATTACKER, "ES256", headers=headers)


def _tampered_payload(seal) -> str:
    token = credential_jwt(seal)
    head, _, signature = token.split(".")
    payload = jwt_parts(token)[1]
    payload["credentialSubject"]["id"] = "https://evil.example/"
    return f"{head}.{b64(json.dumps(payload).encode())}.{signature}"


def _wrong_issuer(seal) -> str:
    other = IssuerFactory()
    payload = credential_payload(seal)
    payload["iss"] = issuer_jwks(other)["keys"][0]["kid"].split("/keys/")[0]
    return jwt_sign(issuer=seal.issuer, payload=payload)


def _not_yet_valid(seal) -> str:
    payload = credential_payload(seal)
    payload["nbf"] = int((NOW + timedelta(days=1)).timestamp())
    return jwt_sign(issuer=seal.issuer, payload=payload)


def _issued_in_the_future(seal) -> str:
    payload = credential_payload(seal)
    payload["iat"] = int((NOW + timedelta(hours=1)).timestamp())
    return jwt_sign(issuer=seal.issuer, payload=payload)


def _expired(seal) -> str:
    payload = credential_payload(seal)
    payload["exp"] = int((NOW - timedelta(minutes=5)).timestamp())
    return jwt_sign(issuer=seal.issuer, payload=payload)


ATTACKS: dict[str, tuple[Callable, str]] = {
    "alg none": (_alg_none, "algorithm"),
    "alg nOnE": (_alg_none_capitals, "algorithm"),
    "HS256 keyed with the public key PEM": (_hs256_public_key, "algorithm"),
    "HS256 keyed with the public JWK": (_hs256_public_jwk, "algorithm"),
    "unknown kid": (_unknown_kid, "kid"),
    "kid with path traversal": (_kid_path_traversal, "kid"),
    "kid as a file path": (_kid_file_path, "kid"),
    "kid on a foreign host": (_kid_foreign_host, "kid"),
    "kid on a look-alike host": (_kid_lookalike_host, "kid"),
    "kid with SQL": (_kid_sql, "kid"),
    "kid that is not a string": (_kid_not_a_string, "format"),  # PyJWT refuses to read it
    "jku header": (_jku, "signature"),
    "x5u header": (_x5u, "signature"),
    "embedded jwk header": (_embedded_jwk, "signature"),
    "tampered payload": (_tampered_payload, "signature"),
    "another issuer's iss": (_wrong_issuer, "issuer"),
    "not yet valid": (_not_yet_valid, "time"),
    "issued in the future": (_issued_in_the_future, "time"),
    "expired": (_expired, "time"),
}


@pytest.fixture(autouse=True)
def _no_fetching(monkeypatch):
    """A verifier that follows jku/x5u/kid URLs would call out; make any such call fail loudly."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"the verifier tried to fetch {args[1:3]}")

    monkeypatch.setattr(requests.Session, "request", refuse)
    monkeypatch.setattr("urllib.request.urlopen", refuse)


def _post(client, token: str) -> dict:
    response = client.post(
        "/verify/credential",
        json.dumps({"credential": token}),
        content_type="application/json",
        REMOTE_ADDR="192.0.2.10",
    )
    assert response.status_code == 200, response.content
    return json.loads(response.content)


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_every_verifying_path_refuses(attack, seal, client, tmp_path, figures):
    build, check = ATTACKS[attack]
    with time_machine.travel(NOW, tick=False):
        token = build(seal)
        result = verify_jwt(token)
        assert (result.valid, result.failed) == (False, check), result.reason

        answer = _post(client, token)
        assert (answer["valid"], answer["failed"]) == (False, check), answer["reason"]

        path = tmp_path / "token.jwt"
        path.write_text(token)
        with pytest.raises(CommandError, match=rf"Invalid \({check}\)"):
            call_command("verifycredential", str(path))
    figures("jwt attacks", attacks=len(ATTACKS), paths=3)


def test_the_genuine_token_passes_every_path_so_the_refusals_mean_something(seal, client, tmp_path):
    with time_machine.travel(NOW, tick=False):
        token = credential_jwt(seal)
        assert verify_jwt(token).valid
        assert _post(client, token)["valid"] is True
        path = tmp_path / "token.jwt"
        path.write_text(token)
        call_command("verifycredential", str(path))


def test_markup_in_a_forged_header_comes_back_only_as_inert_json(seal, client):
    token = _with_kid(seal, "<script>alert(1)</script>")
    response = client.post("/verify/credential", token, content_type="text/plain")
    assert response["Content-Type"] == "application/json"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert json.loads(response.content)["failed"] == "kid"
