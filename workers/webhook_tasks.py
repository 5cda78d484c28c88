"""Webhook delivery, one task per delivery row, and the reconciliation of stragglers."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from config.faults import fault_point
from config.tenancy import issuer_scope
from effects.webhooks import webhook_deliver as webhook_deliver_service
from effects.webhooks import webhooks_reconcile
from issuers.models import WebhookDelivery
from workers.base import ReliableTask, issuer_of, run_beat_job


@shared_task(base=ReliableTask, bind=True, name="workers.webhook_deliver", max_retries=None)
def webhook_deliver(self: ReliableTask, delivery_id: int) -> None:
    fault_point("webhook.before_claim", delivery_id)
    issuer_id = issuer_of(WebhookDelivery, delivery_id, "endpoint__issuer_id")
    if issuer_id is None:
        return  # deleted with its endpoint: nothing is owed
    with issuer_scope(issuer_id):
        outcome = webhook_deliver_service(delivery_id=delivery_id, now=timezone.now())
    if outcome.retry_in is not None:
        raise self.retry(countdown=outcome.retry_in)
    fault_point("webhook.before_ack", delivery_id)


@shared_task(base=ReliableTask, name="workers.webhooks_reconcile")
def webhooks_reconcile_task() -> None:
    run_beat_job("webhooks_reconcile", lambda: webhooks_reconcile(now=timezone.now()))
