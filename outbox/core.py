"""The transactional outbox: side effects written with the change, relayed, claimed, leased.

A message goes through these steps:

1. ``put`` writes it in the caller's transaction and, once that commits, tries to hand it to
   the broker at once (``hand_off``). A broker that is down costs nothing here: the failure is
   logged, the change stays committed and the caller's answer is unchanged.
2. ``relay`` (a beat job, every ``OUTBOX_RELAY_SECONDS``) hands off every due message the broker
   does not hold: never handed off, handed off more than ``OUTBOX_RELAY_AGAIN_SECONDS`` ago (a
   lost message), or whose lease ran out (a dead worker). So after an outage everything due goes
   out within one relay interval of the broker's return.
3. ``run`` (the Celery task ``workers.outbox_run``) claims it with one conditional UPDATE that
   sets a lease; a second copy of the same message finds the lease and does nothing. The
   handler then runs; on success the row is deleted, on ``Retry`` (or any exception) it is due
   again later and the lease is dropped.

Handlers must be idempotent: a worker that dies after the side effect but before the delete
makes the relay hand the message out again once its lease has passed. Long handlers call
``renew`` between batches so a live worker keeps its lease. A handler starts with no tenant
scope (config.tenancy): one that reads an issuer's rows opens ``issuer_scope`` for the issuer
its payload names; one whose work spans issuers runs under ``scopes_disabled()``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from config.tasks import enqueue
from outbox.models import Message

log = logging.getLogger(__name__)

RUN_TASK = "workers.outbox_run"


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


_handlers: dict[str, Handler] = {}


def handler(
    topic: str, *, lease_seconds: float = 120, queue: str = "celery"
) -> Callable[[HandlerFn], HandlerFn]:
    """Register the function that carries out ``topic`` messages. ``lease_seconds`` must exceed
    its longest run between two ``renew`` calls; ``queue`` is the Celery queue it runs on."""

    def register(fn: HandlerFn) -> HandlerFn:
        _handlers[topic] = Handler(topic, fn, timedelta(seconds=lease_seconds), queue)
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
    moves earlier if this one is due sooner), so repeated changes cost one run."""
    due = due_at or timezone.now()
    if key:
        pending = Message.objects.filter(topic=topic, key=key).first()
        if pending is None:
            try:
                with transaction.atomic():
                    message = Message.objects.create(
                        topic=topic, payload=payload or {}, key=key, due_at=due
                    )
            except IntegrityError:  # a concurrent put of the same key won
                message = Message.objects.get(topic=topic, key=key)
        else:
            message = pending
            if due < message.due_at:
                Message.objects.filter(pk=message.pk, due_at__gt=due).update(due_at=due)
    else:
        message = Message.objects.create(topic=topic, payload=payload or {}, due_at=due)
    if message.due_at <= timezone.now():
        pk = message.pk
        transaction.on_commit(lambda: hand_off([pk]))
    return message


def hand_off(message_ids: list[int]) -> int:
    """Give these messages to the broker; returns how many it took. Never raises: a message
    the broker refused keeps its old ``relayed_at`` and the relay tries again."""
    sent = 0
    for pk, topic in Message.objects.filter(pk__in=message_ids).values_list("pk", "topic"):
        registered = _handlers.get(topic)
        queue = registered.queue if registered else "celery"
        try:
            enqueue(RUN_TASK, pk, queue=queue)
        except Exception:
            log.warning("outbox: message %s (%s) not handed off; the relay retries", pk, topic)
            # One failure is as good as all: the broker is down, spare it the rest.
            break
        Message.objects.filter(pk=pk).update(relayed_at=timezone.now())
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
        .update(leased_until=now + lease, attempts=F("attempts") + 1)
    )
    return claimed == 1


def renew(message: Message) -> None:
    """Extend a running handler's lease (call between batches of a long job)."""
    registered = _handlers[message.topic]
    Message.objects.filter(pk=message.pk).update(leased_until=timezone.now() + registered.lease)


def retry_delay(attempts: int) -> timedelta:
    """After an unexpected failure: 30 s, doubling, at most an hour."""
    return timedelta(seconds=min(3600, 30 * 2 ** max(attempts - 1, 0)))


def run(message_id: int, *, now: datetime | None = None) -> str:
    """Claim and carry out one message; returns what happened (for logs and tests):
    ``done``, ``retry``, ``failed`` (an exception, retried later) or ``skipped`` (not due,
    held by another worker, already done, or no handler here)."""
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
        Message.objects.filter(pk=message_id).update(
            due_at=retry.at, leased_until=None, relayed_at=None, last_error=retry.reason[:2000]
        )
        return "retry"
    except Exception as exc:
        log.exception("outbox: %s message %s failed", topic, message_id)
        Message.objects.filter(pk=message_id).update(
            due_at=timezone.now() + retry_delay(message.attempts),
            leased_until=None,
            relayed_at=None,
            last_error=f"{type(exc).__name__}: {exc}"[:2000],
        )
        return "failed"
    Message.objects.filter(pk=message_id).delete()
    return "done"


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
        if run(pk, now=at) == "done":
            done += 1
        elif Message.objects.filter(pk=pk, due_at__lte=at).exists():
            break  # it failed and is due again at once: do not spin
    return done
