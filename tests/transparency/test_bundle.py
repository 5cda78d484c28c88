"""``/verify/<id>/bundle.json``: everything needed to check a seal offline, as public answers
are served (no cookie, cacheable briefly, HEAD, problem+json for an unknown seal)."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
import time_machine

from seals.keys import issuer_jwks
from tests.factories import MemberFactory, award
from transparency import merkle, note
from transparency.services import log_catch_up

pytestmark = pytest.mark.django_db


@pytest.fixture
def seal(issuer):
    seal = award(MemberFactory(issuer=issuer))
    log_catch_up(issuer_id=issuer.pk)
    return seal


def test_the_bundle_holds_the_credential_keys_lists_token_and_proven_leaves(client, seal):
    response = client.get(f"/verify/{seal.public_id}/bundle.json")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "public, max-age=20"
    assert "attachment" in response["Content-Disposition"]
    assert not response.cookies
    bundle = response.json()
    assert bundle["format"] == "trustseal-verification-bundle/1"
    assert bundle["generatedAt"].endswith("Z")
    assert (
        bundle["credential"] == client.get(f"/s/{seal.public_id}/credential.jwt").content.decode()
    )
    assert bundle["issuer"]["jwks"] == issuer_jwks(seal.issuer)
    slug = seal.issuer.slug
    for listed in bundle["status_lists"]:
        served = client.get(f"/issuers/{slug}/status/{listed['purpose']}").content.decode()
        assert listed["credential"] == served
    assert {s["purpose"] for s in bundle["status_lists"]} == {"revocation", "suspension"}
    assert bundle["status_token"]

    log = bundle["log"]
    assert log["verifier_key"] == client.get(f"/issuers/{slug}/log/key").content.decode().strip()
    assert log["checkpoint"] == client.get(f"/issuers/{slug}/log/checkpoint").content.decode()
    checkpoint = note.parse_checkpoint(
        note.open_note(log["checkpoint"], note.parse_verifier_key(log["verifier_key"]))
    )
    (leaf,) = log["leaves"]
    data = base64.b64decode(leaf["leaf"])
    assert b'"kind":"issued"' in data and seal.public_id.encode() in data
    proof = [base64.b64decode(p) for p in leaf["inclusion_proof"]]
    assert merkle.verify_inclusion(
        leaf["leaf_index"], checkpoint.size, merkle.leaf_hash(data), proof, checkpoint.root
    )
    assert log["pending"] == 0


def test_events_after_the_checkpoint_are_counted_as_pending(client, seal):
    from seals.services import seal_suspend

    seal_suspend(seal=seal, reason="audit", actor="test")
    log = client.get(f"/verify/{seal.public_id}/bundle.json").json()["log"]
    assert (len(log["leaves"]), log["pending"]) == (1, 1)


def test_head_answers_like_get_without_a_body(client, seal):
    response = client.head(f"/verify/{seal.public_id}/bundle.json")
    assert response.status_code == 200 and response.content == b""
    assert response["Cache-Control"] == "public, max-age=20"


def test_an_unknown_seal_is_a_problem_404(client, issuer):
    response = client.get(f"/verify/{'A' * 22}/bundle.json")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 404
    assert not response.cookies
    assert client.get("/verify/short/bundle.json").status_code == 404


def test_a_bundle_is_never_cached_past_the_seals_expiry(client, issuer):
    seal = award(MemberFactory(issuer=issuer), days=1)
    with time_machine.travel(seal.expires_at - timedelta(seconds=8), tick=False):
        response = client.get(f"/verify/{seal.public_id}/bundle.json")
    max_age = int(response["Cache-Control"].rsplit("=", 1)[1])
    assert max_age <= 7


def test_the_page_and_the_json_link_the_bundle(client, seal):
    link = f"/verify/{seal.public_id}/bundle.json"
    assert (
        client.get(f"/verify/{seal.public_id}.json")
        .json()["links"]["verification_bundle"]
        .endswith(link)
    )
    page = client.get(f"/verify/{seal.public_id}").content.decode()
    assert link in page and "Download verification bundle" in page


def test_an_erased_holders_seal_has_no_bundle(client, seal, django_capture_on_commit_callbacks):
    from privacy import services as privacy

    with django_capture_on_commit_callbacks(execute=True):
        privacy.member_erase(member=seal.member, corporate=True, actor="office")
    response = client.get(f"/verify/{seal.public_id}/bundle.json")
    assert response.status_code == 410
    assert response["Content-Type"] == "application/problem+json"
    assert seal.member.legal_name.encode() not in response.content
