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
    # The handler's lease is the run's hard time limit: a live worker cannot outlive it.
    limits = {"queue": "celery", "time_limit": 60, "soft_time_limit": 54}
    assert _clean == [((core.RUN_TASK, message.pk), limits)]
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


def test_a_change_arriving_while_its_keyed_message_runs_gets_one_more_run():
    seen: list[int] = []

    @core.handler("test.keyed", lease_seconds=60)
    def read_state(payload: dict, message: Message) -> None:
        seen.append(payload["n"])
        if len(seen) == 1:
            # A change commits while the first run works on the state before it.
            core.put("test.keyed", {"n": 2}, key="issuer-1")

    core.put("test.keyed", {"n": 1}, key="issuer-1")
    pk = Message.objects.get(topic="test.keyed").pk
    assert core.run(pk) == "again"
    row = Message.objects.get(pk=pk)
    assert row.leased_until is None and row.due_at <= timezone.now()
    assert core.run(pk) == "done"
    assert len(seen) == 2
    assert not Message.objects.filter(topic="test.keyed").exists()


def test_a_run_that_outlived_its_lease_leaves_the_message_to_the_run_that_took_over():
    message = core.put(TOPIC, {"n": 1})

    @core.handler("test.slow", lease_seconds=60)
    def slow(payload: dict, message: Message) -> None:
        # Meanwhile the lease ran out and another worker claimed the message.
        Message.objects.filter(pk=message.pk).update(
            leased_until=timezone.now() + timedelta(minutes=5)
        )

    Message.objects.filter(pk=message.pk).update(topic="test.slow")
    assert core.run(message.pk) == "overtaken"
    assert Message.objects.filter(pk=message.pk).exists()  # the other run decides


def test_put_many_writes_one_message_per_payload_or_per_key(_clean):
    with transaction.atomic():
        core.put_many(TOPIC, [{"n": n} for n in range(3)])
        core.put_many(TOPIC, [{"n": 7}, {"n": 8}], keys=["a", "b"])
        core.put_many(TOPIC, [{"n": 9}], keys=["a"])
    assert Message.objects.filter(topic=TOPIC).count() == 5
    assert sorted(Message.objects.filter(key__gt="").values_list("key", flat=True)) == ["a", "b"]
    assert len(_clean) == 6  # each due put handed off once its transaction committed


def test_a_refused_hand_off_stops_at_the_first_failure_and_leaves_the_rest_to_the_relay(
    monkeypatch,
):
    calls = []

    def down(*args, **kwargs):
        calls.append(args)
        raise ConnectionError("broker down")

    monkeypatch.setattr(core, "enqueue", down)
    with transaction.atomic():
        core.put_many(TOPIC, [{"n": n} for n in range(3)])
    assert len(calls) == 1
    assert not Message.objects.filter(relayed_at__isnull=False).exists()


def test_a_message_rescheduled_during_its_hand_off_stays_visible_to_the_relay(monkeypatch):
    message = core.put(TOPIC, {"retry": True})
    # A fast worker runs it (and reschedules it) before the publish call returns.
    monkeypatch.setattr(core, "enqueue", lambda name, pk, **kw: core.run(pk))
    assert core.hand_off([message.pk]) == 1
    row = Message.objects.get(pk=message.pk)
    assert row.relayed_at is None and row.due_at > timezone.now()


def test_renew_extends_only_a_lease_still_held():
    message = core.put(TOPIC, {"n": 1})
    now = timezone.now()
    Message.objects.filter(pk=message.pk).update(leased_until=now + timedelta(seconds=5))
    message.refresh_from_db()
    assert core.renew(message)
    assert message.leased_until > now + timedelta(seconds=50)
    Message.objects.filter(pk=message.pk).update(leased_until=now + timedelta(hours=1))
    assert not core.renew(message)  # another run holds it now
