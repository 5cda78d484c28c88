"""The log's evidence in historical answers: each event's leaf and an inclusion proof that an
outsider checks against the signed checkpoint, with nothing but the served bytes."""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta

import jwt
import pytest
import time_machine
from django.utils import timezone

from seals.services import seal_suspend
from tests.factories import MemberFactory, award
from transparency import merkle, note
from transparency.services import log_catch_up

pytestmark = pytest.mark.django_db


def _at(moment) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def test_each_event_comes_with_a_proof_against_the_current_checkpoint(client, issuer):
    start = timezone.now() - timedelta(hours=1)
    with time_machine.travel(start, tick=False):
        others = [award(MemberFactory(issuer=issuer)) for _ in range(4)]
        seal = award(MemberFactory(issuer=issuer))
    with time_machine.travel(start + timedelta(minutes=5), tick=False):
        seal = seal_suspend(seal=seal, reason="audit", actor="test")
    log_catch_up(issuer_id=issuer.pk)
    body = client.get(
        f"/verify/{seal.public_id}.json", {"at": _at(start + timedelta(minutes=6))}
    ).json()

    key = client.get(f"/issuers/{issuer.slug}/log/key").content.decode()
    signed = client.get(f"/issuers/{issuer.slug}/log/checkpoint").content.decode()
    checkpoint = note.parse_checkpoint(note.open_note(signed, note.parse_verifier_key(key)))
    assert body["status"] == "suspended" and len(others) == 4
    assert body["checkpoint"]["size"] == checkpoint.size == 6
    assert base64.b64decode(body["checkpoint"]["root_hash"]) == checkpoint.root
    claims = jwt.decode(body["statement"], options={"verify_signature": False})
    assert (claims["checkpoint_size"], claims["checkpoint_root"]) == (
        checkpoint.size,
        body["checkpoint"]["root_hash"],
    )
    assert [e["kind"] for e in body["events"]] == ["issued", "suspended"]
    for event in body["events"]:
        log = event["log"]
        assert log["leaf_index"] == event["seq"] - 1 and log["checkpoint_size"] == 6
        served = client.get(
            f"/issuers/{issuer.slug}/log/proof/inclusion", {"leaf": log["leaf_index"]}
        ).json()
        leaf = base64.b64decode(served["leaf"])
        assert f'"kind":"{event["kind"]}"'.encode() in leaf  # the leaf is this event
        proof = [base64.b64decode(p) for p in log["inclusion_proof"]]
        leaf_hash = hashlib.sha256(b"\x00" + leaf).digest()
        assert merkle.verify_inclusion(
            log["leaf_index"], checkpoint.size, leaf_hash, proof, checkpoint.root
        )


def test_an_event_after_the_checkpoint_has_no_proof_yet(client, issuer):
    seal = award(MemberFactory(issuer=issuer))
    log_catch_up(issuer_id=issuer.pk)
    seal = seal_suspend(seal=seal, reason="audit", actor="test")
    body = client.get(f"/verify/{seal.public_id}.json", {"at": _at(timezone.now())}).json()
    assert body["status"] == "suspended"
    assert [bool(e["log"]) for e in body["events"]] == [True, False]
    assert body["checkpoint"]["size"] == 1
