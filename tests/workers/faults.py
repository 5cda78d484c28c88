"""Fault injection for the delivery-semantics tests: named points where a worker can die.

No production module imports this. ``install`` runs in the worker processes the integration
tests start (``celery -A tests.workers.celery_app``) and wraps the functions at the seams of one
delivery, ``<kind>`` being ``webhook`` or ``notice``:

- ``<kind>.before_claim``: the outbox message is about to be run, nothing is claimed;
- ``<kind>.after_claim``: the message and its row are claimed, nothing is sent;
- ``<kind>.after_send``: the POST or SMTP hand-over is done, the row is not yet marked;
- ``<kind>.before_ack``: the row is marked, the outbox message not yet deleted and the broker
  message not yet acknowledged.

Inert unless ``TRUSTSEAL_KILL_POINT`` names one of them. On the ``TRUSTSEAL_KILL_AFTER``-th hit
of that point the process appends the point and the object id (delivery or notice) to
``TRUSTSEAL_KILL_LOG`` and sends itself SIGKILL: no cleanup, no ack, exactly what a crashed or
OOM-killed host looks like to the broker and the database. ``TRUSTSEAL_TEST_LEASE_SECONDS``
shortens every handler's lease, so a dead worker's message is taken over within the test.
"""

from __future__ import annotations

import os
import signal
from dataclasses import replace
from datetime import timedelta
from typing import Any

# topic -> (kind, the payload field naming the object)
KINDS = {"webhook.deliver": ("webhook", "delivery_id"), "notice.send": ("notice", "notice_id")}

_hits: dict[str, int] = {}


def fault_point(name: str, ref: object = "") -> None:
    target = os.environ.get("TRUSTSEAL_KILL_POINT")
    if not target or target != name:
        return
    _hits[name] = _hits.get(name, 0) + 1
    if _hits[name] < int(os.environ.get("TRUSTSEAL_KILL_AFTER", "1")):
        return
    log = os.environ.get("TRUSTSEAL_KILL_LOG")
    if log:
        with open(log, "a") as fh:
            fh.write(f"{name} {ref}\n")
            fh.flush()
            os.fsync(fh.fileno())
    os.kill(os.getpid(), signal.SIGKILL)


def install() -> None:
    from outbox import core

    lease = os.environ.get("TRUSTSEAL_TEST_LEASE_SECONDS")
    if lease:
        for topic, registered in list(core._handlers.items()):
            core._handlers[topic] = replace(registered, lease=timedelta(seconds=float(lease)))
    if not os.environ.get("TRUSTSEAL_KILL_POINT"):
        return
    _wrap_run(core)
    _wrap_handlers(core)
    _wrap_webhook_post()
    _wrap_notice_send()


def _wrap_run(core: Any) -> None:
    from outbox.models import Message

    run = core.run

    def run_with_fault(message_id: int, **kwargs: Any) -> str:
        row = Message.objects.filter(pk=message_id).values_list("topic", "payload").first()
        if row and row[0] in KINDS:
            kind, field = KINDS[row[0]]
            fault_point(f"{kind}.before_claim", row[1][field])
        return run(message_id, **kwargs)

    core.run = run_with_fault


def _wrap_handlers(core: Any) -> None:
    for topic, (kind, field) in KINDS.items():
        registered = core._handlers[topic]

        def run_then_fault(payload: dict, message: Any, run=registered.run, kind=kind, field=field):
            run(payload, message)
            fault_point(f"{kind}.before_ack", payload[field])

        core._handlers[topic] = replace(registered, run=run_then_fault)


def _wrap_webhook_post() -> None:
    from effects import webhooks

    post = webhooks._post

    def post_with_faults(delivery: Any) -> int:
        fault_point("webhook.after_claim", delivery.pk)
        try:
            return post(delivery)
        finally:
            fault_point("webhook.after_send", delivery.pk)

    webhooks._post = post_with_faults


def _wrap_notice_send() -> None:
    from effects import notices

    build = notices.notice_message

    def message_with_faults(notice: Any) -> Any:
        message = build(notice)
        send = message.send

        def send_with_faults(*args: Any, **kwargs: Any) -> int:
            fault_point("notice.after_claim", notice.pk)
            sent = send(*args, **kwargs)
            fault_point("notice.after_send", notice.pk)
            return sent

        message.send = send_with_faults
        return message

    notices.notice_message = message_with_faults
