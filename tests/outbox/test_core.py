"""The outbox: written with the change, handed off after commit, claimed once, retried."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from outbox import core
from outbox.models import Message

pytestmark = pytest.mark.django_db(transaction=True)

TOPIC = "test.record"
ran: list[dict] = []


@core.handler(TOPIC, lease_seconds=60)
def _record(payload: dict, message: Message) -> None:
    if payload.get("retry"):
        raise core.Retry(at=timezone.now() + timedelta(minutes=5), reason="peer said 503")
    if payload.get("boom"):
        raise RuntimeError("boom")
    ran.append(payload)


@pytest.fixture(autouse=True)
def _clean(monkeypatch):
    ran.clear()
    sent: list[tuple] = []
    monkeypatch.setattr(core, "enqueue", lambda *a, **kw: sent.append((a, kw)))
    return sent


def test_a_message_is_handed_off_only_after_its_transaction_commits(_clean):
    with transaction.atomic():
        message = core.put(TOPIC, {"n": 1})
        assert _clean == []
    assert _clean == [((core.RUN_TASK, message.pk), {"queue": "celery"})]
    assert Message.objects.get(pk=message.pk).relayed_at is not None


def test_a_rolled_back_change_owes_nothing(_clean):
    with pytest.raises(RuntimeError), transaction.atomic():
        core.put(TOPIC, {"n": 1})
        raise RuntimeError("the change failed")
    assert not Message.objects.exists()
    assert _clean == []


def test_a_broker_outage_keeps_the_message_for_the_relay(monkeypatch):
    def down(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(core, "enqueue", down)
    with transaction.atomic():
        message = core.put(TOPIC, {"n": 1})  # the commit itself must not raise
    assert Message.objects.get(pk=message.pk).relayed_at is None

    sent = []
    monkeypatch.setattr(core, "enqueue", lambda *a, **kw: sent.append(a))
    assert core.relay(now=timezone.now()) == 1
    assert sent == [(core.RUN_TASK, message.pk)]
    # Handed off now: the next relay leaves it to the broker.
    assert core.relay(now=timezone.now()) == 0


def test_the_relay_hands_out_again_what_a_dead_worker_held(_clean):
    message = core.put(TOPIC, {"n": 1})
    now = timezone.now()
    Message.objects.filter(pk=message.pk).update(relayed_at=now, leased_until=now + timedelta(1))
    assert core.relay(now=now) == 0  # leased: a worker is on it
    assert core.relay(now=now + timedelta(days=2)) == 1  # its lease ran out


def test_run_claims_once_and_deletes_on_success():
    message = core.put(TOPIC, {"n": 7})
    assert core.run(message.pk) == "done"
    assert ran == [{"n": 7}]
    assert not Message.objects.filter(pk=message.pk).exists()
    assert core.run(message.pk) == "skipped"  # a second copy of the broker message
    assert ran == [{"n": 7}]


def test_a_leased_message_is_not_run_by_a_second_worker():
    message = core.put(TOPIC, {"n": 1})
    Message.objects.filter(pk=message.pk).update(leased_until=timezone.now() + timedelta(60))
    assert core.run(message.pk) == "skipped"
    assert ran == []


def test_retry_moves_the_due_time_and_drops_the_lease():
    message = core.put(TOPIC, {"retry": True})
    assert core.run(message.pk) == "retry"
    row = Message.objects.get(pk=message.pk)
    assert row.due_at > timezone.now() + timedelta(minutes=4)
    assert row.leased_until is None and row.relayed_at is None
    assert row.last_error == "peer said 503" and row.attempts == 1
    assert core.run(message.pk) == "skipped"  # not due yet


def test_an_unexpected_error_is_retried_later_not_lost():
    message = core.put(TOPIC, {"boom": True})
    assert core.run(message.pk) == "failed"
    row = Message.objects.get(pk=message.pk)
    assert row.due_at > timezone.now() and "RuntimeError: boom" in row.last_error


def test_a_key_keeps_one_pending_message():
    first = core.put(TOPIC, {"n": 1}, key="issuer-1", due_at=timezone.now() + timedelta(60))
    second = core.put(TOPIC, {"n": 2}, key="issuer-1")
    assert first.pk == second.pk
    assert Message.objects.filter(topic=TOPIC).count() == 1
    assert Message.objects.get(pk=first.pk).due_at <= timezone.now()
    core.put(TOPIC, {"n": 3}, key="issuer-2")
    assert Message.objects.filter(topic=TOPIC).count() == 2


def test_drain_runs_everything_due():
    for n in range(3):
        core.put(TOPIC, {"n": n})
    core.put(TOPIC, {"n": 9}, due_at=timezone.now() + timedelta(hours=1))
    assert core.drain() == 3
    assert sorted(p["n"] for p in ran) == [0, 1, 2]
    assert Message.objects.count() == 1
