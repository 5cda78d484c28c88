"""The daily misuse digest: one per issuer and day, only when a new host appeared, to its owners."""

from __future__ import annotations

import smtplib
from datetime import UTC, datetime

import pytest
import time_machine
from django.core import mail

from effects.misuse_digest import (
    SEND_TOPIC,
    digest_recipients,
    misuse_digest_send,
    misuse_digests_plan,
)
from issuers.models import StaffRole
from issuers.staff import staff_user_create
from outbox.models import Message
from seals import stats
from seals.models import MisuseDigest
from tests.factories import IssuerFactory, MemberFactory
from tests.seals.public_helpers import seal_in

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_stat_counters")]

SEEN = datetime(2030, 3, 1, 14, tzinfo=UTC)
NEXT_MORNING = datetime(2030, 3, 2, 6, tzinfo=UTC)
NOON_NEXT_DAY = datetime(2030, 3, 2, 12, tzinfo=UTC)


def shown_on(client, seal, referer: str, at: datetime = SEEN) -> None:
    with time_machine.travel(at, tick=False):
        client.get(f"/s/{seal.public_id}.svg", HTTP_REFERER=referer)
        stats.flush_counts(now=at)


def owner(issuer, email: str, role: str = StaffRole.OWNER):
    return staff_user_create(issuer=issuer, email=email, password="pw-" + email, role=role)


def send_all(at: datetime = NEXT_MORNING) -> list[str]:
    return [
        misuse_digest_send(digest_id=m.payload["digest_id"], now=at).state
        for m in Message.objects.filter(topic=SEND_TOPIC).order_by("pk")
    ]


def test_one_digest_per_issuer_lists_yesterdays_new_hosts(client):
    seal = seal_in("active")
    owner(seal.issuer, "owner@issuer.example")
    owner(seal.issuer, "viewer@issuer.example", StaffRole.VIEWER)
    shown_on(client, seal, "https://copycat.example/")
    shown_on(client, seal, "https://другой.example/")

    assert misuse_digests_plan(now=NEXT_MORNING) == 1
    assert misuse_digests_plan(now=NEXT_MORNING) == 0  # planned twice: one digest
    assert send_all() == ["sent"]
    assert send_all() == ["not_claimed"]  # its message run again: nothing more goes out

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["owner@issuer.example"]
    assert message.subject == "2 new sites showing your seals (01 Mar 2030)"
    assert "copycat.example" in message.body
    assert "другой.example" in message.body  # as people read it, not xn--
    assert seal.public_id in message.body
    assert message.extra_headers["Message-ID"].startswith("<misuse-digest-")
    digest = MisuseDigest.objects.get()
    assert (digest.state, digest.hosts, digest.day.isoformat()) == ("sent", 2, "2030-03-01")


def test_nothing_is_sent_when_no_host_is_new(client):
    seal = seal_in("active")
    owner(seal.issuer, "owner@issuer.example")
    shown_on(client, seal, "https://copycat.example/", at=datetime(2030, 2, 27, 9, tzinfo=UTC))
    shown_on(client, seal, "https://copycat.example/")  # seen before: not new on the 1st
    shown_on(client, seal, "https://shop.example/")  # the member's own site

    assert misuse_digests_plan(now=NEXT_MORNING) == 0
    assert not MisuseDigest.objects.exists()
    assert mail.outbox == []


def test_the_day_is_planned_only_once_its_last_flush_is_in(client):
    seal = seal_in("active")
    owner(seal.issuer, "owner@issuer.example")
    shown_on(client, seal, "https://copycat.example/")
    assert misuse_digests_plan(now=datetime(2030, 3, 2, 0, 5, tzinfo=UTC)) == 0
    assert misuse_digests_plan(now=datetime(2030, 3, 2, 0, 20, tzinfo=UTC)) == 1


def test_each_issuer_gets_its_own_hosts_only(client):
    ours = seal_in("active")
    theirs = seal_in("active", member=MemberFactory(issuer=IssuerFactory(), domains=["b.example"]))
    owner(ours.issuer, "owner@ours.example")
    owner(theirs.issuer, "owner@theirs.example")
    shown_on(client, ours, "https://copy-of-ours.example/")
    shown_on(client, theirs, "https://copy-of-theirs.example/")

    assert misuse_digests_plan(now=NEXT_MORNING) == 2
    send_all()
    bodies = {m.to[0]: m.body for m in mail.outbox}
    assert "copy-of-ours.example" in bodies["owner@ours.example"]
    assert "copy-of-theirs.example" not in bodies["owner@ours.example"]
    assert "copy-of-theirs.example" in bodies["owner@theirs.example"]


def test_without_an_owner_it_goes_to_the_issuers_public_address(client):
    seal = seal_in("active")
    seal.issuer.public_email = "office@issuer.example"
    seal.issuer.save()
    assert digest_recipients(seal.issuer) == ["office@issuer.example"]


def test_an_smtp_failure_is_retried_later_then_sent(client, monkeypatch):
    seal = seal_in("active")
    owner(seal.issuer, "owner@issuer.example")
    shown_on(client, seal, "https://copycat.example/")
    misuse_digests_plan(now=NEXT_MORNING)
    digest = MisuseDigest.objects.get()

    def refuse(self, *args, **kwargs):
        raise smtplib.SMTPServerDisconnected("gone")

    with monkeypatch.context() as patched:
        patched.setattr("django.core.mail.EmailMessage.send", refuse)
        outcome = misuse_digest_send(digest_id=digest.pk, now=NEXT_MORNING)
    assert outcome.state == "pending" and outcome.retry_at is not None
    assert outcome.retry_at > NEXT_MORNING
    assert misuse_digest_send(digest_id=digest.pk, now=outcome.retry_at).state == "sent"
    assert len(mail.outbox) == 1


def test_the_beat_job_plans_the_digest_once(client):
    from workers.misuse_tasks import misuse_digests_plan_task

    seal = seal_in("active")
    owner(seal.issuer, "owner@issuer.example")
    shown_on(client, seal, "https://copycat.example/")
    with time_machine.travel(NOON_NEXT_DAY, tick=False):
        misuse_digests_plan_task.apply()
        misuse_digests_plan_task.apply()  # run again: nothing more is owed
    assert MisuseDigest.objects.count() == 1
    assert Message.objects.filter(topic=SEND_TOPIC).count() == 1


def test_the_event_type_is_in_the_webhook_catalogue_and_the_api_schema(client):
    from issuers.events import EVENT_TYPES

    assert "seal.misuse_detected" in EVENT_TYPES
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").content.decode()
    assert "seal.misuse_detected" in schema
