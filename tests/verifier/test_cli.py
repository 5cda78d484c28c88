"""trustseal-verify against the app: the three-way verdict from each kind of input, each check
it makes, and what it answers when the evidence cannot be had."""

from __future__ import annotations

import base64
import json
import socket
from datetime import timedelta

import jwt
import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from seals.credentials import jwt_sign
from seals.services import seal_revoke, seal_suspend
from seals.status_lists import status_lists_regenerate_dirty
from tests.factories import IssuerFactory, MemberFactory, award
from transparency.services import log_catch_up
from trustseal_verify.cli import main

pytestmark = pytest.mark.django_db


def run(capsys, *args: str, fetch=None) -> tuple[int, dict]:
    code = main([*args, "--json"], fetch=fetch)
    return code, json.loads(capsys.readouterr().out)


def outcomes(report: dict) -> dict[str, str]:
    return {c["name"]: c["outcome"] for c in report["checks"]}


def url(seal) -> str:
    return f"{settings.PUBLIC_BASE_URL}/verify/{seal.public_id}"


@pytest.fixture
def seal(issuer):
    seal = award(MemberFactory(issuer=issuer))
    log_catch_up(issuer_id=issuer.pk)
    return seal


def test_a_valid_seal_is_valid_with_every_check_passed(seal, fetch, capsys):
    code = main([url(seal)], fetch=fetch)
    out = capsys.readouterr().out

    assert code == 0
    assert out.splitlines()[-1] == "VALID: Every check passed."
    for name in ("signature", "issuer", "time", "revocation", "suspension", "status token", "log"):
        assert f"\u2713 {name}" in out
    # The key came from its kid URL and the lists from the credential's own URLs.
    assert any("/keys/" in u for u in fetch.seen)
    assert any(u.endswith("/status/suspension") for u in fetch.seen)


def test_a_revoked_seal_is_invalid_with_the_reason(seal, fetch, capsys):
    seal_revoke(seal=seal, reason="fraud", actor="test")
    status_lists_regenerate_dirty()
    log_catch_up(issuer_id=seal.issuer_id)

    code, report = run(capsys, url(seal), fetch=fetch)

    assert code == 1
    assert report["verdict"]["verdict"] == "invalid"
    assert report["verdict"]["reason"] == "revoked"
    assert outcomes(report)["revocation"] == "fail"
    assert outcomes(report)["signature"] == "pass"


def test_a_suspended_seal_is_invalid_as_suspended(seal, fetch, capsys):
    seal_suspend(seal=seal, reason="audit", actor="test")
    status_lists_regenerate_dirty()
    log_catch_up(issuer_id=seal.issuer_id)

    code, report = run(capsys, url(seal), fetch=fetch)

    assert (code, report["verdict"]["reason"]) == (1, "suspended")


def test_a_log_that_says_revoked_outweighs_clear_status_lists(seal, fetch, capsys):
    # The lists are signed before the revocation and never regenerated: a stale origin.
    fetch(f"{settings.PUBLIC_BASE_URL}/issuers/{seal.issuer.slug}/status/revocation")
    fetch(f"{settings.PUBLIC_BASE_URL}/issuers/{seal.issuer.slug}/status/suspension")
    seal_revoke(seal=seal, reason="fraud", actor="test")
    log_catch_up(issuer_id=seal.issuer_id)

    code, report = run(capsys, url(seal), fetch=fetch)

    assert code == 1
    assert report["verdict"]["reason"] == "revoked"
    failed = [c for c in report["checks"] if c["outcome"] == "fail"]
    assert {c["name"] for c in failed} >= {"log"}


def test_an_unknown_seal_is_invalid(issuer, fetch, capsys):
    code, report = run(capsys, f"{settings.PUBLIC_BASE_URL}/verify/{'A' * 22}", fetch=fetch)
    assert (code, report["verdict"]["reason"]) == (1, "unknown_seal")


def test_a_server_that_is_down_gives_unknown_never_valid(capsys):
    with socket.socket() as sock:  # a port nothing listens on once this closes
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]

    code, report = run(capsys, f"http://127.0.0.1:{port}/verify/{'A' * 22}")

    assert code == 2
    assert report["verdict"]["verdict"] == "unknown"
    assert "could not be fetched" in report["verdict"]["detail"]


def test_a_seal_not_yet_in_a_checkpoint_is_unknown_until_the_log_signs_it(issuer, fetch, capsys):
    seal = award(MemberFactory(issuer=issuer))  # no catch-up: the log has no checkpoint

    code, report = run(capsys, url(seal), fetch=fetch)
    assert (code, outcomes(report)["log"]) == (2, "unknown")

    log_catch_up(issuer_id=issuer.pk)
    assert run(capsys, url(seal), fetch=fetch)[0] == 0


def test_an_offline_bundle_gives_the_verdict_and_the_age_of_its_evidence(
    seal, client, tmp_path, capsys
):
    bundle = tmp_path / "bundle.json"
    bundle.write_bytes(client.get(f"/verify/{seal.public_id}/bundle.json").content)

    with time_machine.travel(timezone.now() + timedelta(hours=3)):
        code = main([str(bundle), "--offline"])  # the default fetcher: the network
        out = capsys.readouterr().out
        stale_code, stale = run(capsys, str(bundle), "--offline", "--max-age", "3600")

    assert code == 0, out
    assert "status evidence of " in out and ": 3 hours old" in out
    assert "? status token" in out  # spent after an hour: it says what was so then
    assert stale_code == 2
    assert stale["verdict"]["verdict"] == "unknown"
    assert stale["verdict"]["last_confirmed_valid_at"] is not None
    assert stale["evidence_age_seconds"] >= 3 * 3600


def test_offline_refuses_anything_but_a_bundle(seal, client, tmp_path, capsys):
    token = tmp_path / "credential.jwt"
    token.write_bytes(client.get(f"/s/{seal.public_id}/credential.jwt").content)
    assert main([str(token), "--offline"]) == 2


def test_a_tampered_bundle_credential_is_a_bad_signature(seal, client, tmp_path, capsys):
    document = client.get(f"/verify/{seal.public_id}/bundle.json").json()
    header, payload, signature = document["credential"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["validUntil"] = "2099-01-01T00:00:00Z"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    document["credential"] = f"{header}.{forged}.{signature}"
    bundle = tmp_path / "bundle.json"
    bundle.write_text(json.dumps(document))

    code, report = run(capsys, str(bundle), "--offline")

    assert (code, report["verdict"]["reason"]) == (1, "bad_signature")
    assert outcomes(report)["signature"] == "fail"


def test_a_tampered_credential_file_is_a_bad_signature(seal, client, tmp_path, fetch, capsys):
    token = client.get(f"/s/{seal.public_id}/credential.jwt").content.decode()
    header, payload, signature = token.split(".")
    flipped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
    path = tmp_path / "credential.jwt"
    path.write_text(f"{header}.{payload}.{flipped}")

    code, report = run(capsys, str(path), fetch=fetch)

    assert (code, report["verdict"]["reason"]) == (1, "bad_signature")


def test_a_credential_naming_another_issuer_is_wrong_issuer(seal, client, tmp_path, fetch, capsys):
    other = IssuerFactory()
    token = client.get(f"/s/{seal.public_id}/credential.jwt").content.decode()
    claims = jwt.decode(token, options={"verify_signature": False})
    other_id = f"{settings.PUBLIC_BASE_URL}/issuers/{other.slug}"
    claims["iss"] = other_id
    claims["issuer"] = {**claims["issuer"], "id": other_id}
    path = tmp_path / "credential.jwt"
    path.write_text(jwt_sign(issuer=seal.issuer, payload=claims))  # signed by the first issuer

    code, report = run(capsys, str(path), fetch=fetch)

    assert (code, report["verdict"]["reason"]) == (1, "wrong_issuer")
    assert outcomes(report)["signature"] == "pass"


def test_a_bundle_from_another_host_is_wrong_issuer(seal, client, tmp_path, fetch, capsys):
    document = client.get(f"/verify/{seal.public_id}/bundle.json").json()
    document["verification_url"] = f"https://elsewhere.example/verify/{seal.public_id}"
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(document))

    code, report = run(capsys, str(path), fetch=fetch)

    assert (code, report["verdict"]["reason"]) == (1, "wrong_issuer")


@pytest.mark.parametrize("fmt", ["png", "svg"])
def test_a_baked_badge_is_checked_by_its_credential(seal, client, tmp_path, fetch, capsys, fmt):
    path = tmp_path / f"badge.{fmt}"
    path.write_bytes(client.get(f"/s/{seal.public_id}/badge.{fmt}").content)

    code, report = run(capsys, str(path), fetch=fetch)

    assert code == 0
    # A credential does not name its seal: no log evidence, said so, and not needed.
    assert outcomes(report)["log"] == "skip"


def test_a_credential_whose_key_was_revoked_is_invalid(seal, client, tmp_path, fetch, capsys):
    from seals.keys import signing_key_active, signing_key_revoke, signing_key_rotate

    path = tmp_path / "credential.jwt"
    path.write_bytes(client.get(f"/s/{seal.public_id}/credential.jwt").content)
    old = signing_key_active(seal.issuer)
    signing_key_rotate(issuer=seal.issuer)
    signing_key_revoke(key=old)

    code, report = run(capsys, str(path), fetch=fetch)

    assert (code, report["verdict"]["reason"]) == (1, "bad_signature")
    assert outcomes(report)["key"] == "fail"


def test_a_pinned_log_key_that_differs_from_the_published_one_fails(seal, fetch, capsys):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from transparency import note as server_note

    other = server_note.verifier_key(
        f"127.0.0.1:8000/issuers/{seal.issuer.slug}/log",
        server_note.public_bytes(Ed25519PrivateKey.generate().public_key()),
    )

    code, report = run(capsys, url(seal), "--log-key", other, fetch=fetch)

    assert (code, report["verdict"]["reason"]) == (1, "log_mismatch")


def test_an_erased_holders_seal_is_no_longer_valid(
    seal, fetch, capsys, django_capture_on_commit_callbacks
):
    from privacy import services as privacy

    with django_capture_on_commit_callbacks(execute=True):
        privacy.member_erase(member=seal.member, corporate=True, actor="office")

    code, report = run(capsys, url(seal), fetch=fetch)

    assert (code, report["verdict"]["reason"]) == (1, "revoked")


def test_offline_a_bundle_forged_with_its_own_keys_fails_against_the_pinned_jwks(
    seal, client, tmp_path, capsys
):
    from cryptography.hazmat.primitives.asymmetric import ec
    from jwt.algorithms import ECAlgorithm

    document = client.get(f"/verify/{seal.public_id}/bundle.json").json()
    real_jwks = tmp_path / "jwks.json"
    real_jwks.write_text(json.dumps(document["issuer"]["jwks"]))
    # A forger re-signs the credential with a key of their own under the issuer's kid, and
    # puts that key in the bundle's JWKS.
    forged_key = ec.generate_private_key(ec.SECP256R1())
    header = jwt.get_unverified_header(document["credential"])
    claims = jwt.decode(document["credential"], options={"verify_signature": False})
    document["credential"] = jwt.encode(
        claims, forged_key, algorithm="ES256", headers={"kid": header["kid"], "typ": "JWT"}
    )
    public = json.loads(ECAlgorithm.to_jwk(forged_key.public_key()))
    document["issuer"]["jwks"] = {"keys": [{**public, "kid": header["kid"], "alg": "ES256"}]}
    bundle = tmp_path / "bundle.json"
    bundle.write_text(json.dumps(document))

    _, unpinned = run(capsys, str(bundle), "--offline")
    code, report = run(capsys, str(bundle), "--offline", "--jwks", str(real_jwks))

    key_line = next(c for c in unpinned["checks"] if c["name"] == "key")
    assert "pin them with --jwks" in key_line["detail"]  # what the unpinned check rests on
    assert (code, report["verdict"]["reason"]) == (1, "bad_signature")
