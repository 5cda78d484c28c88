"""Expiry notices: one per (seal, kind, cycle), the nearest after an outage, claim-send-mark."""

import smtplib
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.db import IntegrityError
from django.utils import timezone

from effects.notices import SEND_TOPIC, notice_message_id, notice_send, notices_owe, notices_plan
from effects.webhooks import webhook_endpoint_create
from issuers.models import WebhookDelivery
from issuers.services import programme_create
from outbox import core as outbox
from outbox.models import Message
from seals.models import Notice
from seals.services import seal_renew, seal_revoke
from tests.factories import IssuerFactory, MemberFactory, award


@pytest.fixture
def issuer(db):
    return IssuerFactory(public_email="office@association.example")


@pytest.fixture
def member(issuer):
    return MemberFactory(issuer=issuer)


def _send_all(now):
    return [notice_send(notice_id=n.pk, now=now).state for n in Notice.objects.order_by("pk")]


def test_it_plans_the_30_day_notice_when_its_threshold_passes(member):
    seal = award(member, days=29)
    result = notices_plan(now=timezone.now())
    notice = Notice.objects.get(state=Notice.State.PENDING)
    assert (result.created, notice.kind, notice.seal_id) == (1, "expiry_30d", seal.pk)
    assert notice.cycle == seal.expires_at.date()
    assert notices_plan(now=timezone.now()).created == 0


def test_after_an_outage_only_the_nearest_notice_of_a_cycle_goes_out(member):
    award(member, days=40)
    now = timezone.now() + timedelta(days=39, hours=12)  # 30-, 7- and 1-day moments all passed
    notices_plan(now=now)
    states = dict(Notice.objects.values_list("kind", "state"))
    assert states == {"expiry_1d": "pending", "expiry_7d": "skipped", "expiry_30d": "skipped"}
    assert _send_all(now) == ["sent", "not_claimed", "not_claimed"]
    assert len(mail.outbox) == 1


def test_a_pending_notice_overtaken_by_a_nearer_one_is_skipped_not_sent(member):
    award(member, days=20)
    notices_plan(now=timezone.now())
    later = timezone.now() + timedelta(days=15)
    assert notice_send(notice_id=Notice.objects.get().pk, now=later).state == "skipped"
    assert mail.outbox == []


def test_the_database_refuses_a_second_notice_of_the_same_kind_and_cycle(member):
    seal = award(member, days=5)
    notices_plan(now=timezone.now())
    with pytest.raises(IntegrityError):
        Notice.objects.create(
            seal=seal, kind="expiry_7d", cycle=seal.expires_at.date(), due_at=timezone.now()
        )


def test_the_message_is_html_and_text_in_the_issuers_name_with_a_stable_message_id(member):
    award(member, days=5)
    notices_plan(now=timezone.now())
    notice = Notice.objects.get(state="pending")
    assert notice_send(notice_id=notice.pk, now=timezone.now()).state == "sent"
    message = mail.outbox[0]
    assert message.to == [member.contact_email]
    assert member.issuer.name in message.from_email
    assert message.reply_to == ["office@association.example"]
    assert message.extra_headers["Message-ID"] == notice_message_id(notice)
    assert "expires in 7 days" in message.subject
    assert message.alternatives[0].mimetype == "text/html"
    assert "even if you opted out of announcements" in message.body
    notice.refresh_from_db()
    assert (notice.state, notice.attempts, notice.recipient_is_issuer) == ("sent", 1, False)


@pytest.mark.parametrize("programme_name", [None, "{issuer} Gold"])
def test_the_subject_names_the_issuer_once(member, programme_name):
    programme = None
    if programme_name is not None:
        name = programme_name.format(issuer=member.issuer.name)
        programme = programme_create(issuer=member.issuer, slug="gold", name=name)
    award(member, days=5, programme=programme)
    notices_plan(now=timezone.now())

    notice_send(notice_id=Notice.objects.get(state="pending").pk, now=timezone.now())

    subject = mail.outbox[0].subject
    assert subject.count(member.issuer.name) == 1, subject


def test_the_html_escapes_member_data(issuer):
    member = MemberFactory(issuer=issuer, legal_name="<script>x</script> Ltd")
    award(member, days=5)
    notices_plan(now=timezone.now())
    notice_send(notice_id=Notice.objects.get(state="pending").pk, now=timezone.now())
    html = mail.outbox[0].alternatives[0].content
    assert "<script>x" not in html and "&lt;script&gt;" in html


@pytest.mark.parametrize("condition", ["erased", "restricted", "no_contact"])
def test_members_without_a_usable_contact_are_addressed_through_the_issuer(issuer, condition):
    member = MemberFactory(issuer=issuer)
    if condition == "erased":
        member.erased_at, member.contact_email = timezone.now(), ""
    elif condition == "restricted":
        member.restricted = True
    else:
        member.contact_email = ""
    member.save()
    award(member, days=5)
    notices_plan(now=timezone.now())
    notice_send(notice_id=Notice.objects.get(state="pending").pk, now=timezone.now())
    assert mail.outbox[0].to == ["office@association.example"]
    assert "We sent it to you because" in mail.outbox[0].body
    assert Notice.objects.get(state="sent").recipient_is_issuer


def test_marketing_opt_out_does_not_stop_a_service_notice(issuer):
    member = MemberFactory(issuer=issuer)
    member.marketing_opt_out = True
    member.save()
    award(member, days=5)
    notices_plan(now=timezone.now())
    assert _send_all(timezone.now()) == ["sent", "not_claimed"]


def test_a_renewal_starts_a_new_cycle(member):
    seal = award(member, days=5)
    notices_plan(now=timezone.now())
    seal_renew(seal=seal, expires_at=timezone.now() + timedelta(days=6), reason="", actor="t")
    notice = Notice.objects.get(state="pending")
    assert notice_send(notice_id=notice.pk, now=timezone.now()).state == "skipped"
    notices_plan(now=timezone.now())
    fresh = Notice.objects.get(state="pending")
    assert fresh.cycle != notice.cycle and fresh.kind == "expiry_7d"


def test_revoked_seals_get_no_notices(member):
    seal_revoke(seal=award(member, days=5), reason="r", actor="t")
    assert notices_plan(now=timezone.now()).created == 0


def test_the_expired_notice_goes_out_on_expiry_but_not_for_long_past_expiries(member):
    award(member, days=1)
    old = award(member, days=1)
    old.expires_at = timezone.now() - timedelta(days=30)
    old.save()
    notices_plan(now=timezone.now() + timedelta(days=1, minutes=1))
    kinds = set(Notice.objects.filter(state="pending").values_list("seal_id", "kind"))
    assert kinds == {(member.seals.exclude(pk=old.pk).get().pk, "expired")}


def test_a_programme_with_other_thresholds_gets_kinds_named_by_days(member):
    programme = member.issuer.programmes.get()
    programme.notice_days = [14, 60]
    programme.save()
    award(member, days=50)
    notices_plan(now=timezone.now())
    assert Notice.objects.get(state="pending").kind == "expiry_60d"


def test_a_notice_with_nobody_to_write_to_is_one_recorded_skip_not_six_attempts(db):
    issuer = IssuerFactory(public_email="")
    member = MemberFactory(issuer=issuer, contact_email="")
    award(member, days=5)
    notices_plan(now=timezone.now())
    message = Message.objects.get(topic=SEND_TOPIC)
    assert outbox.run(message.pk) == "done"
    notice = Notice.objects.get(pk=message.payload["notice_id"])
    assert (notice.state, notice.attempts) == ("skipped", 1)
    assert notice.last_error.startswith("No recipient")
    assert not Message.objects.filter(pk=message.pk).exists()
    assert notice_send(notice_id=notice.pk, now=timezone.now()).state == "not_claimed"
    assert mail.outbox == []


def test_an_smtp_failure_is_retried_with_back_off(member, monkeypatch):
    award(member, days=5)
    notices_plan(now=timezone.now())
    notice = Notice.objects.get(state="pending")

    def refuse(*args, **kwargs):
        raise smtplib.SMTPServerDisconnected("gone")

    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", refuse)
    outcome = notice_send(notice_id=notice.pk, now=timezone.now())
    notice.refresh_from_db()
    assert outcome.state == "pending" and outcome.retry_at > timezone.now()
    assert notice.state == "pending" and notice.attempts == 1
    assert notice.due_at == outcome.retry_at
    early = notice_send(notice_id=notice.pk, now=timezone.now())
    assert (early.state, early.retry_at) == ("not_due", notice.due_at)


def test_after_the_last_attempt_the_notice_fails_and_the_issuer_gets_a_webhook(
    member, monkeypatch, settings
):
    settings.NOTICE_MAX_ATTEMPTS = 2
    webhook_endpoint_create(issuer=member.issuer, url="https://hooks.example/x")
    award(member, days=5)
    WebhookDelivery.objects.all().delete()
    notices_plan(now=timezone.now())
    notice = Notice.objects.get(state="pending")
    monkeypatch.setattr(
        "django.core.mail.EmailMultiAlternatives.send",
        lambda *a, **k: (_ for _ in ()).throw(smtplib.SMTPDataError(451, "try later")),
    )
    later = timezone.now()
    states = []
    for _ in range(2):
        later += timedelta(days=1)
        with time_machine.travel(later, tick=False):
            states.append(notice_send(notice_id=notice.pk, now=later).state)
    notice.refresh_from_db()
    assert states == ["pending", "failed"]
    assert notice.state == "failed" and notice.last_error == "SMTPDataError 451"
    delivery = WebhookDelivery.objects.get(event_type="notice.failed")
    assert delivery.payload["data"]["notice"] == notice.pk


def test_each_planned_notice_is_owed_once_through_the_outbox(member):
    award(member, days=5)
    notices_plan(now=timezone.now())
    notice = Notice.objects.get(state="pending")
    owed = Message.objects.filter(topic=SEND_TOPIC).values_list("key", "payload")
    assert list(owed) == [(str(notice.pk), {"notice_id": notice.pk})]
    notices_owe([notice.pk])  # a second planner that saw the same pending row adds nothing
    assert owed.all().count() == 1
    outbox.drain()
    assert Notice.objects.get(pk=notice.pk).state == "sent"
    assert len(mail.outbox) == 1 and not owed.all().exists()


def test_a_notice_is_never_sent_twice_however_often_its_message_comes_back(member):
    award(member, days=5)
    notices_plan(now=timezone.now())
    notice = Notice.objects.get(state="pending")
    outbox.drain()
    notices_owe([notice.pk])  # a stray copy after it was sent
    outbox.drain()
    assert len(mail.outbox) == 1


def test_an_smtp_failure_leaves_the_message_due_at_the_back_off(member, monkeypatch):
    award(member, days=5)
    notices_plan(now=timezone.now())
    monkeypatch.setattr(
        "django.core.mail.EmailMultiAlternatives.send",
        lambda *a, **k: (_ for _ in ()).throw(smtplib.SMTPServerDisconnected("gone")),
    )
    message = Message.objects.get(topic=SEND_TOPIC)
    assert outbox.run(message.pk) == "retry"
    message.refresh_from_db()
    notice = Notice.objects.get(state="pending")
    assert message.due_at == notice.due_at > timezone.now() and message.leased_until is None


def test_a_claim_whose_worker_died_is_resent_after_the_lease_with_the_same_message_id(
    member, monkeypatch
):
    monkeypatch.setattr(outbox, "enqueue", lambda *args, **options: None)
    award(member, days=5)
    notices_plan(now=timezone.now())
    Message.objects.exclude(topic=SEND_TOPIC).delete()  # the award's image pre-render
    notice = Notice.objects.get(state="pending")
    message = Message.objects.get(topic=SEND_TOPIC)
    start = timezone.now()
    lease = start + timedelta(seconds=90)
    # A worker claimed the message and the notice, then died before sending.
    Notice.objects.filter(pk=notice.pk).update(state="claimed", attempts=1)
    Message.objects.filter(pk=message.pk).update(leased_until=lease, relayed_at=start)
    assert outbox.relay(now=start + timedelta(seconds=60)) == 0
    assert outbox.run(message.pk, now=start + timedelta(seconds=60)) == "skipped"
    past_lease = lease + timedelta(seconds=1)
    assert outbox.relay(now=past_lease) == 1
    assert outbox.run(message.pk, now=past_lease) == "done"
    assert Notice.objects.get(pk=notice.pk).state == "sent"
    assert mail.outbox[0].extra_headers["Message-ID"] == notice_message_id(notice)
