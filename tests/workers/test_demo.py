"""The demo's two-minute seal: it flips, its notices go out, its webhook is queued — and a
re-run of ``manage.py demo`` re-arms it without duplicating anything."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command

from demo.management.commands.demo import DEMO_MEMBERS, DEMO_SLUG, SOON_REF
from effects.management.commands.webhook_sink import PATH, SECRET_FILE_NAME
from effects.notices import notice_send, notices_plan
from issuers.models import ApiKey, Issuer, Member, WebhookDelivery, WebhookEndpoint
from seals.chain import verify_chain
from seals.models import Notice, Seal
from seals.transitions import seals_refresh_status

T0 = datetime(2030, 3, 4, 12, 0, tzinfo=UTC)


@pytest.fixture
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    return tmp_path


def demo(*args: str) -> str:
    out = StringIO()
    call_command("demo", *args, stdout=out)
    return out.getvalue()


def soon_seal() -> Seal:
    return Seal.objects.get(member__external_ref=SOON_REF)


def send_due_notices(seal: Seal, now: datetime) -> list[str]:
    """Plan, then send this seal's pending notices as the worker would; returns their kinds."""
    notices_plan(now=now)
    sent = []
    for notice in Notice.objects.filter(seal=seal, state=Notice.State.PENDING):
        if notice_send(notice_id=notice.pk, now=now).state == "sent":
            sent.append(notice.kind)
    return sent


def test_a_rerun_duplicates_nothing_and_re_arms_the_two_minute_seal(db, var_dir):
    with time_machine.travel(T0, tick=False):
        first = demo("--sink-port", "8123")
    seal = soon_seal()
    endpoint = WebhookEndpoint.objects.get()
    assert seal.expires_at == T0 + timedelta(minutes=2) and seal.status == "active"
    assert endpoint.url == f"http://127.0.0.1:8123{PATH}" and endpoint.event_types == []
    secret_file = var_dir / SECRET_FILE_NAME
    assert secret_file.read_text() == endpoint.secret
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert endpoint.secret not in first  # the sink gets it from the file, never from the log
    assert f"seal={seal.public_id} signature=ok" in first
    assert f"/api/v1/webhooks/{endpoint.pk}/deliveries" in first
    assert "12:02:00 UTC" in first

    later = T0 + timedelta(minutes=10)
    with time_machine.travel(later, tick=False):
        second = demo("--sink-port", "8124")
    assert "shown when it was created" in second
    assert Issuer.objects.filter(slug=DEMO_SLUG).count() == 1 and ApiKey.objects.count() == 1
    assert Member.objects.count() == len(DEMO_MEMBERS) + 1
    assert Seal.objects.count() == len(DEMO_MEMBERS) + 1
    assert WebhookEndpoint.objects.count() == 1
    rearmed = soon_seal()
    assert rearmed.public_id == seal.public_id
    assert rearmed.expires_at == later + timedelta(minutes=2) and rearmed.status == "active"
    endpoint.refresh_from_db()
    assert endpoint.url == f"http://127.0.0.1:8124{PATH}"  # follows the sink's port
    assert secret_file.read_text() == endpoint.secret
    assert verify_chain(Issuer.objects.get()).ok


def test_the_two_minute_seal_flips_sends_its_notices_and_queues_its_webhook(db, var_dir):
    with time_machine.travel(T0, tick=False):
        demo()
    seal = soon_seal()
    endpoint = WebhookEndpoint.objects.get()
    # Beat's first minute: the sweep materialises the long-expired demo seal, and the two-minute
    # seal, inside the 1-day threshold from the start, gets its expiry_1d notice.
    with time_machine.travel(T0 + timedelta(minutes=1), tick=False):
        seals_refresh_status(now=T0 + timedelta(minutes=1))
        assert soon_seal().status == "active"
    assert send_due_notices(seal, T0 + timedelta(minutes=1)) == ["expiry_1d"]

    flip = T0 + timedelta(minutes=3)
    with time_machine.travel(flip, tick=False):
        assert seals_refresh_status(now=flip).expired == 1
        seal.refresh_from_db()
        assert seal.status == "expired"
        assert send_due_notices(seal, flip) == ["expired"]
    message = mail.outbox[-1]
    assert message.to == ["office@fairway.example"]
    assert message.subject.endswith("has expired")
    assert message.extra_headers["Message-ID"].startswith("<notice-")
    (delivery,) = [
        d
        for d in WebhookDelivery.objects.filter(endpoint=endpoint, event_type="seal.expired")
        if d.payload["data"]["seal"] == seal.public_id
    ]
    assert delivery.state == "pending"  # the worker posts it to the sink


def test_a_same_day_rerun_sends_the_expired_notice_again(db, var_dir):
    """A notice cycle is the expiry date: without the demo forgetting the old notices, the
    re-armed seal (same date) would flip silently."""
    with time_machine.travel(T0, tick=False):
        demo()
    seal = soon_seal()
    flip = T0 + timedelta(minutes=3)
    with time_machine.travel(flip, tick=False):
        seals_refresh_status(now=flip)
        send_due_notices(seal, flip)
    rerun = T0 + timedelta(minutes=5)
    with time_machine.travel(rerun, tick=False):
        demo()
    assert soon_seal().status == "active"
    second_flip = rerun + timedelta(minutes=3)
    with time_machine.travel(second_flip, tick=False):
        assert seals_refresh_status(now=second_flip).expired == 1
        assert send_due_notices(seal, second_flip) == ["expired"]
    expired_mails = [m for m in mail.outbox if m.subject.endswith("has expired")]
    assert len(expired_mails) == 2
    events = [
        d.event_type
        for d in WebhookDelivery.objects.order_by("pk")
        if d.payload["data"].get("seal") == seal.public_id
    ]
    assert events == ["seal.issued", "seal.expired", "seal.renewed", "seal.expired"]
