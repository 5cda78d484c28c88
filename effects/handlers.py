"""The outbox handlers of the side effects: one message, one service call (STYLE §4).

Imported by ``EffectsConfig.ready``, so every process that hands off or runs messages (web,
worker, beat, tests) knows their queue and lease.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from config.tenancy import issuer_of, issuer_scope
from effects import misuse_digest
from effects.misuse import misuse_report_notify
from effects.notices import SEND_TOPIC, notice_send
from effects.webhooks import webhook_deliver
from issuers.events import DELIVER_TOPIC
from issuers.models import WebhookDelivery
from outbox.core import Retry, handler
from outbox.models import Message
from seals.misuse import MAIL_TOPIC as MISUSE_MAIL_TOPIC
from seals.models import MisuseDigest, MisuseReport, Notice

# One network round trip each (the HTTP timeouts in effects.webhooks, EMAIL_TIMEOUT for SMTP);
# anything past this is a hung peer, and the run's hard time limit ends it before the lease does.
SEND_LEASE_SECONDS = 90


@handler(DELIVER_TOPIC, lease_seconds=SEND_LEASE_SECONDS)
def deliver_webhook(payload: dict[str, Any], message: Message) -> None:
    issuer_id = issuer_of(WebhookDelivery, payload["delivery_id"], "endpoint__issuer_id")
    if issuer_id is None:
        return  # deleted with its endpoint: nothing is owed
    with issuer_scope(issuer_id):  # the delivery's own issuer, as every task runs
        outcome = webhook_deliver(delivery_id=payload["delivery_id"], now=timezone.now())
    if outcome.retry_at is not None:
        raise Retry(at=outcome.retry_at, reason=f"webhook delivery {outcome.state}")


@handler(SEND_TOPIC, lease_seconds=SEND_LEASE_SECONDS)
def send_notice(payload: dict[str, Any], message: Message) -> None:
    issuer_id = issuer_of(Notice, payload["notice_id"], "seal__issuer_id")
    if issuer_id is None:
        return  # deleted with its seal: nothing is owed
    with issuer_scope(issuer_id):
        outcome = notice_send(notice_id=payload["notice_id"], now=timezone.now())
    if outcome.retry_at is not None:
        raise Retry(at=outcome.retry_at, reason=f"notice {outcome.state}")


@handler(misuse_digest.SEND_TOPIC, lease_seconds=SEND_LEASE_SECONDS)
def send_misuse_digest(payload: dict[str, Any], message: Message) -> None:
    issuer_id = issuer_of(MisuseDigest, payload["digest_id"], "issuer_id")
    if issuer_id is None:
        return  # deleted with its issuer: nothing is owed
    with issuer_scope(issuer_id):
        outcome = misuse_digest.misuse_digest_send(
            digest_id=payload["digest_id"], now=timezone.now()
        )
    if outcome.retry_at is not None:
        raise Retry(at=outcome.retry_at, reason=f"misuse digest {outcome.state}")


@handler(MISUSE_MAIL_TOPIC, lease_seconds=SEND_LEASE_SECONDS)
def send_misuse_mail(payload: dict[str, Any], message: Message) -> None:
    issuer_id = issuer_of(MisuseReport, payload["report_id"], "issuer_id")
    if issuer_id is None:
        return  # deleted with its seal: nothing is owed
    with issuer_scope(issuer_id):
        misuse_report_notify(report_id=payload["report_id"])
