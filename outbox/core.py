"""The transactional outbox: side effects written with the change, relayed, claimed, leased.

A message goes through these steps:

1. ``put`` (or ``put_many``) writes it in the caller's transaction and, once that commits, tries
   to hand it to the broker at once (``hand_off``). A broker that is down costs nothing here:
   the failure is logged, the change stays committed and the caller's answer is unchanged.
2. ``relay`` (a beat job, every ``OUTBOX_RELAY_SECONDS``) hands off every due message the broker
   does not hold: never handed off, handed off more than ``OUTBOX_RELAY_AGAIN_SECONDS`` ago (a
   lost message), or whose lease ran out (a dead worker). So after an outage everything due goes
   out within one relay interval of the broker's return.
3. ``run`` (the Celery task ``workers.outbox_run``) claims it with one conditional UPDATE that
   sets a lease; a second copy of the same message finds the lease and does nothing. The
   handler then runs; on success the row is deleted, on ``Retry`` (or any exception) it is due
   again later and the lease is dropped. Each of these ends is conditional on the lease this run
   took, so a run that outlived its lease cannot undo what the run that took over did; and the
   broker message carries the handler's time limit, so on a prefork worker it cannot outlive it.
4. A keyed message that a ``put`` touched while it ran (``again``) is not deleted at the end but
   handed off once more: the run may have read the state from before that change.

Handlers must be idempotent: a worker that dies after the side effect but before the delete
makes the relay hand the message out again once its lease has passed. Long handlers call
``renew`` between batches so a live worker keeps its lease. A handler starts with no tenant
scope (config.tenancy): one that reads an issuer's rows opens ``issuer_scope`` for the issuer
its payload names; one whose work spans issuers runs under ``scopes_disabled()``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import DateTimeField, F, Q, Value
from django.db.models.functions import Least
from django.utils import timezone

from config.tasks import enqueue
from outbox.models import Message

log = logging.getLogger(__name__)

RUN_TASK = "workers.outbox_run"
# Rows per statement when many messages are written at once (a status sweep, a notice plan):
# well under SQLite's bound on query parameters.
BATCH = 500


class Retry(Exception):
    """Raised by a handler: try again at ``at`` (the message stays, unleased)."""

    def __init__(self, *, at: datetime, reason: str = "") -> None:
        super().__init__(reason)
        self.at = at
        self.reason = reason


HandlerFn = Callable[[dict[str, Any], Message], None]


@dataclass(frozen=True)
class Handler:
    topic: str
    run: HandlerFn
    lease: timedelta
    queue: str
    time_limit: float


_handlers: dict[str, Handler] = {}


def handler(
    topic: str,
    *,
    lease_seconds: float = 120,
    queue: str = "celery",
    time_limit: float | None = None,
) -> Callable[[HandlerFn], HandlerFn]:
    """Register the function that carries out ``topic`` messages. ``lease_seconds`` must exceed
    its longest run between two ``renew`` calls; ``queue`` is the Celery queue it runs on;
    ``time_limit`` is the run's hard limit, by default the lease (a handler that renews sets its
    whole budget here)."""

    def register(fn: HandlerFn) -> HandlerFn:
        _handlers[topic] = Handler(
            topic, fn, timedelta(seconds=lease_seconds), queue, time_limit or lease_seconds
        )
        return fn

    return register


def handler_for(topic: str) -> Handler | None:
    return _handlers.get(topic)


def put(
    topic: str,
    payload: dict[str, Any] | None = None,
    *,
    key: str = "",
    due_at: datetime | None = None,
) -> Message:
    """Owe a side effect. Call it inside the transaction of the change that owes it.

    With a ``key``, a message already pending for (topic, key) is kept instead (its due time
    moves earlier if this one is due sooner), so repeated changes cost one run; if that message
    is running right now, it runs once more after (step 4)."""
    if key:
        return put_many(topic, [payload or {}], keys=[key], due_at=due_at)[0]
    message = Message.objects.create(
        topic=topic, payload=payload or {}, due_at=due_at or timezone.now()
    )
    _hand_off_after_commit([message])
    return message


def put_many(
    topic: str,
    payloads: Iterable[dict[str, Any]],
    *,
    keys: Iterable[str] | None = None,
    due_at: datetime | None = None,
) -> list[Message]:
    """``put`` for many messages of one topic, a few statements per ``BATCH`` rather than one
    or three per message. ``keys``, when given, pairs one key with each payload."""
    due = due_at or timezone.now()
    payloads = list(payloads)
    if keys is None:
        messages: list[Message] = []
        for start in range(0, len(payloads), BATCH):
            rows = [Message(topic=topic, payload=p, due_at=due) for p in payloads[start:][:BATCH]]
            messages += Message.objects.bulk_create(rows)
        _hand_off_after_commit(messages)
        return messages
    # In key order, so two transactions writing overlapping keys lock their rows in one order.
    keyed = sorted(dict(zip(list(keys), payloads, strict=True)).items())
    messages = []
    for start in range(0, len(keyed), BATCH):
        batch = keyed[start:][:BATCH]
        Message.objects.bulk_create(
            [Message(topic=topic, payload=p, key=k, due_at=due) for k, p in batch],
            ignore_conflicts=True,
        )
        # After the insert, not before: an insert that found a concurrent transaction's row
        # waited for it to commit, and this update then reaches that row too. The update takes
        # the row lock until our commit, so a worker claiming the message waits and then sees
        # our change; one already running sees ``again`` (step 4).
        pending = Message.objects.filter(topic=topic, key__in=[k for k, _ in batch])
        pending.update(again=True, due_at=Least(F("due_at"), Value(due, DateTimeField())))
        messages += pending
    _hand_off_after_commit(messages)
    return messages


def _hand_off_after_commit(messages: list[Message]) -> None:
    now = timezone.now()
    due = [m.pk for m in messages if m.pk is not None and m.due_at <= now]
    # A backend that returns no ids from a bulk insert leaves its rows to the relay.
    if due:
        transaction.on_commit(lambda: hand_off(due))


def _publish_options(registered: Handler | None) -> dict[str, Any]:
    if registered is None:
        return {"queue": "celery"}
    return {
        "queue": registered.queue,
        "time_limit": registered.time_limit,
        # Room for the handler to record a failure before the hard limit kills the process.
        "soft_time_limit": registered.time_limit * 0.9,
    }


def hand_off(message_ids: list[int]) -> int:
    """Give these messages to the broker; returns how many it took. Never raises: a message
    the broker refused is left unrelayed and the relay tries again."""
    try:
        rows = list(Message.objects.filter(pk__in=message_ids).values_list("pk", "topic"))
        if not rows:
            return 0
        # Marked before the publish, not after: a worker may run a message at once and
        # reschedule it (clearing ``relayed_at``); a mark written after that would hide the
        # rescheduled message from the relay for OUTBOX_RELAY_AGAIN_SECONDS.
        Message.objects.filter(pk__in=[pk for pk, _ in rows]).update(relayed_at=timezone.now())
    except Exception:
        log.exception("outbox: messages %s not handed off; the relay retries", message_ids[:10])
        return 0
    sent = 0
    for pk, topic in rows:
        try:
            enqueue(RUN_TASK, pk, **_publish_options(_handlers.get(topic)))
        except Exception:
            log.warning(
                "outbox: broker refused message %s (%s); %d left to the relay",
                pk,
                topic,
                len(rows) - sent,
            )
            try:
                unsent = [p for p, _ in rows[sent:]]
                Message.objects.filter(pk__in=unsent).update(relayed_at=None)
            except Exception:
                log.exception("outbox: could not clear the hand-off of %s", unsent[:10])
            # One failure is as good as all: the broker is down, spare it the rest.
            break
        sent += 1
    return sent


def relay(*, now: datetime, limit: int = 1000) -> int:
    """Hand off every due message the broker is not known to hold (module docstring, step 2)."""
    again = now - timedelta(seconds=settings.OUTBOX_RELAY_AGAIN_SECONDS)
    ids = list(
        Message.objects.filter(due_at__lte=now)
        .filter(Q(leased_until__isnull=True) | Q(leased_until__lt=now))
        .filter(
            Q(relayed_at__isnull=True)
            | Q(relayed_at__lt=again)
            # A lease that ran out: the worker holding it died.
            | Q(leased_until__lt=now)
        )
        .order_by("due_at")
        .values_list("pk", flat=True)[:limit]
    )
    return hand_off(ids) if ids else 0


def _claim(pk: int, now: datetime, lease: timedelta) -> bool:
    claimed = (
        Message.objects.filter(pk=pk, due_at__lte=now)
        .filter(Q(leased_until__isnull=True) | Q(leased_until__lt=now))
        .update(leased_until=now + lease, attempts=F("attempts") + 1, again=False)
    )
    return claimed == 1


def renew(message: Message) -> bool:
    """Extend a running handler's lease (call between batches of a long job). False when the
    lease had already run out and another run holds the message: stop, it is theirs."""
    registered = _handlers[message.topic]
    until = timezone.now() + registered.lease
    renewed = Message.objects.filter(pk=message.pk, leased_until=message.leased_until).update(
        leased_until=until
    )
    if renewed:
        message.leased_until = until
    return bool(renewed)


def retry_delay(attempts: int) -> timedelta:
    """After an unexpected failure: 30 s, doubling, at most an hour."""
    return timedelta(seconds=min(3600, 30 * 2 ** max(attempts - 1, 0)))


def run(message_id: int, *, now: datetime | None = None) -> str:
    """Claim and carry out one message; returns what happened (for logs and tests):
    ``done``, ``again`` (changed while it ran: handed off once more), ``retry``, ``failed`` (an
    exception, retried later), ``overtaken`` (it outlived its lease and another run holds it)
    or ``skipped`` (not due, held by another worker, already done, or no handler here)."""
    now = now or timezone.now()
    topic = Message.objects.filter(pk=message_id).values_list("topic", flat=True).first()
    if topic is None:
        return "skipped"
    registered = _handlers.get(topic)
    if registered is None:
        log.error("outbox: no handler for topic %r (message %s)", topic, message_id)
        return "skipped"
    if not _claim(message_id, now, registered.lease):
        return "skipped"
    message = Message.objects.get(pk=message_id)
    try:
        registered.run(message.payload, message)
    except Retry as retry:
        return _end(message, "retry", due_at=retry.at, error=retry.reason)
    except Exception as exc:
        log.exception("outbox: %s message %s failed", topic, message_id)
        due = timezone.now() + retry_delay(message.attempts)
        return _end(message, "failed", due_at=due, error=f"{type(exc).__name__}: {exc}")
    ours = Message.objects.filter(pk=message_id, leased_until=message.leased_until)
    if ours.filter(again=False).delete()[0]:
        return "done"
    if ours.update(leased_until=None, relayed_at=None):
        hand_off([message_id])
        return "again"
    return _overtaken(message)


def _end(message: Message, outcome: str, *, due_at: datetime, error: str) -> str:
    ours = Message.objects.filter(pk=message.pk, leased_until=message.leased_until)
    if ours.update(due_at=due_at, leased_until=None, relayed_at=None, last_error=error[:2000]):
        return outcome
    return _overtaken(message)


def _overtaken(message: Message) -> str:
    log.warning("outbox: %s message %s outlived its lease", message.topic, message.pk)
    return "overtaken"


def drain(*, now: datetime | None = None, limit: int = 10_000) -> int:
    """Run every due message here, in this process, until none is left (tests, ``manage.py``
    commands, a worker-less debug session). Returns how many ran to the end."""
    done = 0
    for _ in range(limit):
        at = now or timezone.now()
        pk = (
            Message.objects.filter(due_at__lte=at)
            .filter(Q(leased_until__isnull=True) | Q(leased_until__lt=at))
            .order_by("due_at", "pk")
            .values_list("pk", flat=True)
            .first()
        )
        if pk is None:
            break
        outcome = run(pk, now=at)
        if outcome == "done":
            done += 1
        elif outcome != "again" and Message.objects.filter(pk=pk, due_at__lte=at).exists():
            break  # it failed and is due again at once: do not spin
    return done
