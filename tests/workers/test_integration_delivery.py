"""Exactly-once as far as plain SMTP and HTTP allow, measured on a real Celery worker.

A real Celery worker is SIGKILLed at each fault point (before the claim, between
claim and send, between send and mark, before the acknowledgement) at least five times while
500 seals cross notice thresholds or expire, and restarted each time; a real SMTP server
(aiosmtpd) and a local HTTP receiver count what arrives. Per kill point: lost must be 0,
duplicates 0 except between send and mark (each counted), under two ids 0.
"""

from __future__ import annotations

import pytest
from django.db import transaction
from django.utils import timezone

from effects.notices import notice_message_id, notices_plan
from effects.webhooks import webhook_endpoint_create
from issuers.models import WebhookDelivery
from outbox.core import relay
from outbox.models import Message
from seals.models import Notice
from seals.render.images import PRERENDER_TOPIC
from seals.transitions import seals_refresh_status
from tests.factories import IssuerFactory, MemberFactory, award
from tests.workers.harness import (
    HTTP_PORT,
    Campaign,
    HttpReceiver,
    SmtpServer,
    measure,
    print_reports,
    purge_broker,
)

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SEALS = 500
# A message whose worker died is taken over after 2 s. A due message whose broker copy was lost
# is handed off again after 15 s: shorter would hand off the whole backlog over and over while
# one worker works through it.
LEASES = {
    "TRUSTSEAL_TEST_LEASE_SECONDS": "2",
    "OUTBOX_RELAY_AGAIN_SECONDS": "15",
}


@pytest.fixture
def short_leases(settings):
    for name, value in LEASES.items():
        setattr(settings, name, int(value))


def _members(issuer, count):
    with transaction.atomic():
        members = [MemberFactory(issuer=issuer) for _ in range(count)]
        for member in members[::25]:  # some erased: their notices go to the issuer
            member.erased_at, member.contact_email = timezone.now(), ""
            member.save()
    return members


def _without_image_prerenders(*, broker: bool = True) -> None:
    """The seals owe their image pre-renders too. They are not what these tests measure, and
    500 renders queued ahead of the deliveries would use up the kill rounds."""
    Message.objects.filter(topic=PRERENDER_TOPIC).delete()
    if broker:
        purge_broker()


def _check(per_point, total):
    assert all(r.kills >= 5 for r in per_point), per_point
    assert total.lost == 0
    assert total.under_two_ids == 0
    by_point = {r.point: r for r in per_point}
    for point in ("before_claim", "after_claim", "before_ack"):
        assert by_point[point].duplicates == 0, by_point[point]
    # Every duplicate comes from a death between send and mark, at most one per such death.
    assert total.duplicates == by_point["after_send"].duplicates <= by_point["after_send"].kills


def test_expiry_notices_survive_sigkill_at_every_point(short_leases, run_dir, capsys):
    issuer = IssuerFactory(public_email="office@association.example")
    with transaction.atomic():
        for i, member in enumerate(_members(issuer, SEALS)):
            # Half cross the 7-day threshold, half the 1-day one (30/7 days then skipped).
            award(member, start_days=-300, days=305 if i % 2 else 300.5)
    _without_image_prerenders()
    with SmtpServer() as smtp:
        planned = notices_plan(now=timezone.now())
        assert planned.created == SEALS
        campaign = Campaign(
            prefix="notice",
            tmp=run_dir,
            reconcile=lambda: relay(now=timezone.now()),
            done=lambda: (
                not Notice.objects.exclude(state__in=["sent", "skipped"]).exists()
                and len({mid for _, mid in smtp.received}) >= SEALS
            ),
            lease_env=LEASES,
        )
        campaign.run()
        arrivals = list(smtp.received)
    sent = Notice.objects.filter(state="sent")
    expected = {str(n.pk): notice_message_id(n) for n in sent}
    assert len(expected) == SEALS
    assert Notice.objects.filter(state="sent", recipient_is_issuer=True).count() == SEALS // 25
    per_point, total = measure(kills=campaign.kills, expected=expected, arrivals=arrivals)
    with capsys.disabled():
        print_reports(f"expiry notices: {SEALS} seals, {len(arrivals)} messages", per_point, total)
        print(f"kill rounds {campaign.timings[0]:.0f} s, final drain {campaign.timings[1]:.0f} s")
    _check(per_point, total)


def test_webhooks_survive_sigkill_at_every_point(short_leases, run_dir, capsys):
    issuer = IssuerFactory()
    webhook_endpoint_create(
        issuer=issuer, url=f"http://127.0.0.1:{HTTP_PORT}/hooks", event_types=["seal.expired"]
    )
    with transaction.atomic():
        for member in _members(issuer, SEALS):
            award(member, days=1, start_days=-10)
    _without_image_prerenders()
    with HttpReceiver() as receiver:
        result = seals_refresh_status(now=timezone.now())
        assert result.expired == SEALS
        _without_image_prerenders(broker=False)  # the sweep's: keep its webhooks' hand-offs
        campaign = Campaign(
            prefix="webhook",
            tmp=run_dir,
            reconcile=lambda: relay(now=timezone.now()),
            done=lambda: (
                not WebhookDelivery.objects.exclude(state="delivered").exists()
                and len({d for _, d in receiver.received}) >= SEALS
            ),
            lease_env=LEASES,
        )
        campaign.run()
        arrivals = list(receiver.received)
    deliveries = WebhookDelivery.objects.filter(state="delivered")
    assert deliveries.count() == SEALS
    # The logical event is (seal, type): one delivery id each, however often it arrives.
    expected = {}
    for delivery in deliveries:
        expected[(delivery.payload["data"]["seal"], delivery.event_type)] = str(delivery.event_id)
    by_row = {str(d.pk): (d.payload["data"]["seal"], d.event_type) for d in deliveries}
    kills = [(point, by_row.get(ref, ref)) for point, ref in campaign.kills]
    per_point, total = measure(kills=kills, expected=expected, arrivals=arrivals)
    with capsys.disabled():
        print_reports(f"webhooks: {SEALS} seals, {len(arrivals)} requests", per_point, total)
        print(f"kill rounds {campaign.timings[0]:.0f} s, final drain {campaign.timings[1]:.0f} s")
    _check(per_point, total)
