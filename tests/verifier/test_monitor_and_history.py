"""``trustseal-verify monitor`` (a log only grows) and ``--at`` (a past status, proven)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.db import connection
from django.utils import timezone

from issuers.services import programme_default
from seals.chain import record_events
from seals.models import SealEvent
from seals.services import seal_award, seal_reinstate, seal_suspend
from tests.factories import MemberFactory, award
from transparency.models import LogCheckpoint, LogLeaf, LogNode
from transparency.services import log_catch_up
from trustseal_verify import note
from trustseal_verify.cli import main

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def issuer_url(issuer) -> str:
    return f"{settings.PUBLIC_BASE_URL}/issuers/{issuer.slug}"


def monitor(capsys, fetch, issuer, state, *extra: str) -> tuple[int, dict]:
    code = main(
        ["monitor", issuer_url(issuer), "--state", str(state), "--json", *extra], fetch=fetch
    )
    return code, json.loads(capsys.readouterr().out)


def more_events(seal, count: int) -> None:
    entries = [(seal, SealEvent.Kind.DETAILS_CHANGED, {"fields": ["name"]})] * count
    record_events(issuer_id=seal.issuer_id, entries=entries, actor="test", at=timezone.now())
    log_catch_up(issuer_id=seal.issuer_id)


@pytest.fixture
def logged(issuer):
    seal = award(MemberFactory(issuer=issuer))
    more_events(seal, 20)
    return seal


def test_the_monitor_keeps_the_first_checkpoint_then_checks_each_new_one_extends_it(
    logged, fetch, tmp_path, capsys
):
    state = tmp_path / "state.json"
    code, first = monitor(capsys, fetch, logged.issuer, state)
    assert (code, first["outcome"], first["current"]["size"]) == (0, "consistent", 21)
    kept = json.loads(state.read_text())
    assert kept["size"] == 21 and kept["log_key"].startswith("127.0.0.1:8000/issuers/")

    more_events(logged, 300)  # past a full tile
    code, second = monitor(capsys, fetch, logged.issuer, state)
    assert (code, second["previous"]["size"], second["current"]["size"]) == (0, 21, 321)
    assert "consistency proof" in second["detail"]
    assert json.loads(state.read_text())["size"] == 321

    more_events(logged, 5)
    code, tiles = monitor(capsys, fetch, logged.issuer, state, "--tiles")
    assert code == 0 and "tiles" in tiles["detail"]


def _rewrite_history(seal) -> None:
    """What a dishonest operator could do with database access: drop the log, quietly change
    a stored event, and rebuild the log from the altered chain."""
    for model in (LogCheckpoint, LogNode, LogLeaf):
        model.objects.filter(issuer_id=seal.issuer_id)._raw_delete(connection.alias)
    with connection.cursor() as cursor:
        table = SealEvent._meta.db_table  # the model's own name, no input
        cursor.execute(
            f"UPDATE {table} SET kind = %s WHERE issuer_id = %s AND seq = 2",  # noqa: S608
            [SealEvent.Kind.RENEWED, seal.issuer_id],
        )
    more_events(seal, 1)


def test_a_history_rewritten_in_the_database_is_reported_with_both_checkpoints(
    logged, fetch, tmp_path, capsys
):
    state = tmp_path / "state.json"
    assert monitor(capsys, fetch, logged.issuer, state)[0] == 0
    before = json.loads(state.read_text())

    _rewrite_history(logged)
    code = main(["monitor", issuer_url(logged.issuer), "--state", str(state)], fetch=fetch)
    out = capsys.readouterr().out

    assert code == 1
    assert "does not extend checkpoint 21" in out and "history was rewritten" in out
    assert out.rstrip().endswith("REWRITTEN")
    assert json.loads(state.read_text()) == before  # the state keeps the evidence
    code, report = monitor(capsys, fetch, logged.issuer, state)
    assert code == 1
    old, new = report["evidence"]
    key = note.parse_verifier_key(before["log_key"])
    # Both are genuinely signed by the log key: together they prove the rewrite.
    assert note.open_checkpoint(old, key).size == 21
    assert note.open_checkpoint(new, key).size == 22
    assert monitor(capsys, fetch, logged.issuer, state, "--tiles")[0] == 1


def test_the_monitor_is_unknown_when_the_log_cannot_be_read(tmp_path, capsys):
    code = main(["monitor", "http://127.0.0.1:9/issuers/x", "--state", str(tmp_path / "s")])
    assert code == 2
    assert "could not be read" in capsys.readouterr().out
    assert not (tmp_path / "s").exists()


def test_the_monitor_cosigns_a_consistent_checkpoint(logged, fetch, tmp_path, capsys):
    private = Ed25519PrivateKey.generate()
    pem = tmp_path / "witness.pem"
    pem.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    code, report = monitor(
        capsys,
        fetch,
        logged.issuer,
        tmp_path / "state.json",
        "--cosign-key",
        str(pem),
        "--cosign-name",
        "witness.example/w1",
    )
    assert code == 0
    cosigned = report["cosigned_checkpoint"]
    key = note.parse_verifier_key(json.loads((tmp_path / "state.json").read_text())["log_key"])
    assert note.open_checkpoint(cosigned, key).size == 21  # the log's signature still verifies
    assert note.cosignature_verifies(
        cosigned, note.witness_verifier_key("witness.example/w1", private)
    )


@pytest.fixture
def lived(issuer):
    """Awarded at T0, suspended at T0+1h, reinstated at T0+2h."""
    member = MemberFactory(issuer=issuer)
    with time_machine.travel(T0, tick=False):
        seal = seal_award(
            member=member,
            programme=programme_default(issuer),
            actor="test",
            valid_from=T0,
            expires_at=T0 + timedelta(days=30),
        )
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        seal_suspend(seal=seal, reason="audit", actor="test")
    with time_machine.travel(T0 + timedelta(hours=2), tick=False):
        seal_reinstate(seal=seal, reason="cleared", actor="test")
    log_catch_up(issuer_id=issuer.pk)
    return seal


def _at(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def test_at_checks_the_signed_statement_and_the_events_proofs(lived, fetch, capsys):
    url = f"{settings.PUBLIC_BASE_URL}/verify/{lived.public_id}"
    with time_machine.travel(T0 + timedelta(hours=3), tick=False):
        valid = main([url, "--at", _at(T0 + timedelta(minutes=30))], fetch=fetch)
        valid_out = capsys.readouterr().out
        suspended = main([url, "--at", _at(T0 + timedelta(minutes=90)), "--json"], fetch=fetch)
        report = json.loads(capsys.readouterr().out)
        future = main([url, "--at", _at(T0 + timedelta(days=3))], fetch=fetch)
        capsys.readouterr()

    assert valid == 0, valid_out
    assert "\u2713 statement" in valid_out and "\u2713 log" in valid_out
    assert suspended == 1 and report["verdict"]["reason"] == "suspended"
    assert future == 2


def test_at_refuses_a_statement_that_does_not_say_what_the_answer_says(lived, fetch, capsys):
    url = f"{settings.PUBLIC_BASE_URL}/verify/{lived.public_id}"

    def lying(target: str) -> bytes:
        body = fetch(target)
        if "?at=" in target:
            document = json.loads(body)
            document["status"], document["verdict"]["verdict"] = "active", "valid"
            return json.dumps(document).encode()
        return body

    with time_machine.travel(T0 + timedelta(hours=3), tick=False):
        code = main([url, "--at", _at(T0 + timedelta(minutes=90)), "--json"], fetch=lying)
    report = json.loads(capsys.readouterr().out)

    assert code == 1
    assert "statement" in report["verdict"]["detail"]
