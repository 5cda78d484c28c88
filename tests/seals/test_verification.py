"""The verifier (service, POST /verify/credential, manage.py verifycredential) and its refusals."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest
import time_machine
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.core.management import CommandError, call_command

from seals.credentials import credential_jwt, credential_payload, jwt_sign
from seals.keys import issuer_jwks, signing_key_active, signing_key_private_pem
from seals.services import seal_revoke, seal_suspend
from seals.verification import verify_jwt
from tests.factories import MemberFactory, award
from tests.seals.credential_checks import b64, forge, jwcrypto_claims, jwt_parts
from tests.seals.public_helpers import regenerate_status_lists

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


@pytest.fixture
def seal(issuer):
    with time_machine.travel(NOW, tick=False):
        return award(MemberFactory(issuer=issuer))


@pytest.fixture
def token(seal):
    return credential_jwt(seal)


def _refused_by_both(token: str, jwks: dict, check: str) -> None:
    result = verify_jwt(token, now=NOW)
    assert (result.valid, result.failed) == (False, check), result.reason
    with pytest.raises(Exception):  # noqa: B017 - jwcrypto raises several types
        jwcrypto_claims(token, jwks)


def test_a_genuine_credential_passes_every_check(token, seal):
    result = verify_jwt(token, now=NOW)
    assert result.valid and result.failed is None and result.kind == "credential"
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
    assert result.status == {"revocation": False, "suspension": False}


def test_a_flipped_byte_in_the_signature_is_refused(token, seal):
    head, body, signature = token.split(".")
    flipped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
    _refused_by_both(f"{head}.{body}.{flipped}", issuer_jwks(seal.issuer), "signature")


def test_a_flipped_byte_in_the_payload_is_refused(token, seal):
    head, body, signature = token.split(".")
    payload = jwt_parts(token)[1]
    payload["validUntil"] = "2099-01-01T00:00:00Z"
    forged_body = b64(json.dumps(payload).encode())
    assert forged_body != body
    _refused_by_both(f"{head}.{forged_body}.{signature}", issuer_jwks(seal.issuer), "signature")


def test_a_swapped_kid_is_refused(token, seal, other_issuer):
    header, _ = jwt_parts(token)
    other_kid = issuer_jwks(other_issuer)["keys"][0]["kid"]
    _, body, signature = token.split(".")
    swapped = f"{b64(json.dumps({**header, 'kid': other_kid}).encode())}.{body}.{signature}"
    jwks = {"keys": issuer_jwks(seal.issuer)["keys"] + issuer_jwks(other_issuer)["keys"]}
    _refused_by_both(swapped, jwks, "signature")


def test_a_kid_that_is_not_ours_is_refused_and_jwk_headers_are_ignored(seal):
    attacker = ec.generate_private_key(ec.SECP256R1())
    public_jwk = jwt.algorithms.ECAlgorithm.to_jwk(attacker.public_key(), as_dict=True)
    payload = credential_payload(seal)
    foreign = jwt.encode(payload, attacker, "ES256", headers={"kid": "https://evil.example/k"})
    assert verify_jwt(foreign, now=NOW).failed == "kid"
    kid = issuer_jwks(seal.issuer)["keys"][0]["kid"]
    embedded = jwt.encode(payload, attacker, "ES256", headers={"kid": kid, "jwk": public_jwk})
    result = verify_jwt(embedded, now=NOW)
    assert (result.valid, result.failed) == (False, "signature")


def test_alg_none_is_refused(seal):
    header = {"alg": "none", "kid": issuer_jwks(seal.issuer)["keys"][0]["kid"], "typ": "JWT"}
    _refused_by_both(forge(header, credential_payload(seal)), issuer_jwks(seal.issuer), "algorithm")


def test_hs256_signed_with_the_public_key_is_refused(seal):
    key = signing_key_active(seal.issuer)
    public_pem = (
        serialization.load_pem_private_key(signing_key_private_pem(key), None)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    header = {"alg": "HS256", "kid": issuer_jwks(seal.issuer)["keys"][0]["kid"], "typ": "JWT"}
    forged = forge(header, credential_payload(seal), hmac_key=public_pem)
    _refused_by_both(forged, issuer_jwks(seal.issuer), "algorithm")


def test_an_expired_credential_is_refused(token, seal):
    after = seal.expires_at + timedelta(seconds=61)
    with time_machine.travel(after, tick=False):
        result = verify_jwt(token)
        with pytest.raises(Exception, match=r"[Ee]xpired"):
            jwcrypto_claims(token, issuer_jwks(seal.issuer))
    assert (result.valid, result.failed) == (False, "time") and "Expired" in result.reason


def test_time_claims_tolerate_sixty_seconds_of_skew_and_no_more(seal):
    payload = {**credential_payload(seal), "nbf": int(NOW.timestamp()) + 50}
    assert verify_jwt(jwt_sign(issuer=seal.issuer, payload=payload), now=NOW).valid
    payload["nbf"] = int(NOW.timestamp()) + 70
    assert verify_jwt(jwt_sign(issuer=seal.issuer, payload=payload), now=NOW).failed == "time"


def test_a_signed_credential_that_breaks_the_schema_is_refused(seal):
    payload = credential_payload(seal)
    del payload["credentialSubject"]["achievement"]
    result = verify_jwt(jwt_sign(issuer=seal.issuer, payload=payload), now=NOW)
    assert (result.failed, "achievement" in result.reason) == ("schema", True)


def test_a_credential_naming_another_issuer_is_refused(seal, other_issuer):
    payload = credential_payload(seal)
    forged = jwt_sign(issuer=other_issuer, payload=payload)
    assert verify_jwt(forged, now=NOW).failed == "issuer"


def test_garbage_is_refused_as_format():
    assert verify_jwt("not a jwt").failed == "format"
    assert verify_jwt("a.b.c").failed == "format"


@pytest.mark.django_db(transaction=True)
def test_revoked_and_suspended_credentials_fail_on_their_status_bits(issuer):
    revoked, suspended = (award(MemberFactory(issuer=issuer)) for _ in range(2))
    tokens = credential_jwt(revoked), credential_jwt(suspended)
    seal_revoke(seal=revoked, reason="fraud", actor="test")
    seal_suspend(seal=suspended, reason="audit", actor="test")
    regenerate_status_lists()
    results = [verify_jwt(t) for t in tokens]
    assert [(r.failed, r.reason.split(" ")[0]) for r in results] == [
        ("status", "Revoked"),
        ("status", "Suspended"),
    ]


def test_post_verify_credential_answers_json_without_cookies(token, client):
    with time_machine.travel(NOW, tick=False):
        raw = client.post("/verify/credential", token, content_type="application/jwt")
        as_json = client.post(
            "/verify/credential", {"credential": token}, content_type="application/json"
        )
    assert raw.status_code == 200 and raw.json()["valid"] is True and not raw.cookies
    assert as_json.json()["valid"] is True
    tampered = client.post("/verify/credential", token[:-4] + "AAAA", content_type="text/plain")
    assert tampered.json()["failed"] == "signature"


def test_post_verify_credential_explains_a_missing_credential(client):
    response = client.post("/verify/credential", "", content_type="text/plain")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"


def test_post_verify_credential_is_rate_limited_per_network(client, token):
    # Mid-minute and frozen: the limiter's window is a calendar minute, and 31 requests that
    # straddle its boundary would start a fresh count.
    with time_machine.travel(NOW + timedelta(seconds=30), tick=False):
        statuses = [
            client.post(
                "/verify/credential",
                "x.y.z",
                content_type="text/plain",
                REMOTE_ADDR=f"203.0.113.{i}",
            ).status_code
            for i in range(31)
        ]
        other = client.post(
            "/verify/credential", "x", content_type="text/plain", REMOTE_ADDR="198.51.100.1"
        )
    assert statuses[:30] == [200] * 30 and statuses[30] == 429
    assert other.status_code == 200


def test_the_command_verifies_a_file_and_fails_loudly_on_a_bad_one(token, tmp_path, capsys):
    good = tmp_path / "good.jwt"
    good.write_text(token)
    with time_machine.travel(NOW, tick=False):
        call_command("verifycredential", str(good))
    assert "Valid credential" in capsys.readouterr().out
    bad = tmp_path / "bad.jwt"
    bad.write_text(token[:-4] + "AAAA")
    with pytest.raises(CommandError, match="signature"):
        call_command("verifycredential", str(bad))


def _docs_script() -> str:
    text = (Path(__file__).resolve().parents[2] / "docs" / "verification.md").read_text()
    return re.search(r"```python\n(.*?)```", text, re.S).group(1)


@pytest.mark.django_db(transaction=True)
def test_the_documented_script_verifies_a_seal_and_notices_its_revocation(issuer, client, tmp_path):
    seal = award(MemberFactory(issuer=issuer))
    script = tmp_path / "verify_seal.py"
    script.write_text(_docs_script())
    files = {
        "credential.jwt": f"/s/{seal.public_id}/credential.jwt",
        "jwks.json": f"/issuers/{issuer.slug}/jwks.json",
        "revocation.jwt": f"/issuers/{issuer.slug}/status/revocation",
        "suspension.jwt": f"/issuers/{issuer.slug}/status/suspension",
    }

    def run() -> subprocess.CompletedProcess:
        for name, url in files.items():
            (tmp_path / name).write_bytes(client.get(url).content)
        args = [sys.executable, str(script), *(str(tmp_path / name) for name in files)]
        return subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)  # noqa: S603

    valid = run()
    assert valid.returncode == 0 and valid.stdout.startswith("VALID"), valid.stderr
    seal_suspend(seal=seal, reason="audit", actor="test")
    regenerate_status_lists()
    suspended = run()
    assert suspended.returncode == 1 and "SUSPENDED" in suspended.stderr
    seal_revoke(seal=seal, reason="fraud", actor="test")
    regenerate_status_lists()
    revoked = run()
    assert revoked.returncode == 1 and "REVOKED" in revoked.stderr
