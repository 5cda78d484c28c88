"""The per-issuer SealEvent hash chain: append-only, linear under concurrency, tamper-evident."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from itertools import pairwise

import pytest
from django.db import connection, connections

from seals.chain import GENESIS_HASH, record_event, verify_chain
from seals.models import SealEvent
from seals.services import seal_revoke, seal_suspend
from tests.factories import IssuerFactory, MemberFactory, award


@pytest.fixture
def chained(db):
    issuer = IssuerFactory()
    member = MemberFactory(issuer=issuer)
    seal = award(member)
    seal = seal_suspend(seal=seal, reason="Complaint from Jane Doe", actor="key:abc")
    seal = seal_revoke(seal=seal, reason="Upheld", actor="key:abc")
    return issuer, seal


def test_events_link_from_genesis_to_the_published_head(chained):
    issuer, _ = chained
    events = list(SealEvent.objects.filter(issuer=issuer).order_by("seq"))
    assert [e.kind for e in events] == ["issued", "suspended", "revoked"]
    assert events[0].prev_hash == GENESIS_HASH
    assert all(b.prev_hash == a.hash for a, b in pairwise(events))
    report = verify_chain(issuer)
    assert report.ok and report.length == 3 and report.head == events[-1].hash
    issuer.refresh_from_db()
    assert issuer.chain_head == events[-1].hash


def test_personal_reasons_sit_outside_the_hashed_part(chained):
    issuer, _ = chained
    suspended = SealEvent.objects.get(issuer=issuer, kind="suspended")
    assert "Jane Doe" not in str(suspended.data)
    assert suspended.private_data["reason"] == "Complaint from Jane Doe"
    assert len(suspended.data["private_digest"]) == 64


def test_erasing_private_data_keeps_the_chain_valid(chained):
    issuer, _ = chained
    SealEvent.objects.filter(issuer=issuer).erase_private_data()
    assert not SealEvent.objects.filter(issuer=issuer, private_data__isnull=False).exists()
    assert verify_chain(issuer).ok


def test_it_refuses_updates_and_deletes(chained):
    issuer, _ = chained
    event = SealEvent.objects.filter(issuer=issuer).first()
    event.actor = "someone else"
    with pytest.raises(TypeError, match="append-only"):
        event.save()
    with pytest.raises(TypeError, match="append-only"):
        event.delete()
    with pytest.raises(TypeError, match="append-only"):
        SealEvent.objects.filter(issuer=issuer).update(actor="x")
    with pytest.raises(TypeError, match="append-only"):
        SealEvent.objects.filter(issuer=issuer).delete()


def _flip_one_byte(text: str) -> str:
    """Change one alphanumeric character near the middle (so JSON stays valid JSON)."""
    i = next(j for j in range(len(text) // 2, len(text)) if text[j].isalnum())
    replacement = "0" if text[i] != "0" else "1"
    return text[:i] + replacement + text[i + 1 :]


TAMPERABLE = ["kind", "actor", "data", "prev_hash", "hash", "occurred_at"]
# Event 1 (issued) carries no private data; events 2 and 3 carry a reason.
CASES = [(c, p) for c in TAMPERABLE for p in (1, 2, 3)] + [("private_data", 2), ("private_data", 3)]


@pytest.mark.parametrize(("column", "position"), CASES)
def test_verify_chain_finds_a_single_altered_byte_in_any_event(chained, column, position):
    issuer, _ = chained
    event = SealEvent.objects.get(issuer=issuer, seq=position)
    table = SealEvent._meta.db_table
    if column == "occurred_at":
        field = SealEvent._meta.get_field("occurred_at")
        new = field.get_db_prep_value(event.occurred_at + timedelta(microseconds=1), connection)
    else:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [event.pk])  # noqa: S608
            (raw,) = cursor.fetchone()
        new = _flip_one_byte(raw if isinstance(raw, str) else json.dumps(raw))
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {column} = %s WHERE id = %s", [new, event.pk])  # noqa: S608
    report = verify_chain(issuer)
    assert not report.ok
    assert report.broken_at in (position, position + 1)
    assert report.reason


def test_a_missing_event_is_reported(chained):
    issuer, _ = chained
    table = SealEvent._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE issuer_id = %s AND seq = 2", [issuer.pk])  # noqa: S608
    report = verify_chain(issuer)
    assert not report.ok and report.broken_at == 2


def test_chains_of_two_issuers_are_independent(db):
    a, b = IssuerFactory(), IssuerFactory()
    award(MemberFactory(issuer=a))
    award(MemberFactory(issuer=b))
    award(MemberFactory(issuer=a))
    assert verify_chain(a).length == 2
    assert verify_chain(b).length == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_keep_one_linear_chain():
    writers, per_writer = 8, 15
    issuer = IssuerFactory()
    seals = [award(MemberFactory(issuer=issuer)) for _ in range(writers)]
    barrier = threading.Barrier(writers)
    errors: list[BaseException] = []

    def write(seal) -> None:
        try:
            barrier.wait()
            for i in range(per_writer):
                record_event(
                    seal=seal, kind=SealEvent.Kind.DETAILS_CHANGED, actor="t", data={"n": i}
                )
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(s,)) for s in seals]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    report = verify_chain(issuer)
    assert report.ok, report
    assert report.length == writers + writers * per_writer
    seqs = list(SealEvent.objects.filter(issuer=issuer).values_list("seq", flat=True))
    assert seqs == list(range(1, report.length + 1))
