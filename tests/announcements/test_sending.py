"""Announcements: who gets one, how it reads, and that no member is ever mailed it twice."""

from __future__ import annotations

import smtplib
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from announcements.models import Announcement, Recipient
from announcements.selectors import announcement_counts
from announcements.services import (
    MAX_ATTEMPTS,
    SEND_TOPIC,
    NotADraftError,
    announcement_create,
    announcement_run,
    announcement_send,
)
from config.errors import InvalidInputError
from issuers.models import AuditEntry
from issuers.services import InUseError, programme_create
from outbox import core as outbox
from outbox.models import Message
from privacy.services import member_restrict
from privacy.unsubscribe import unsubscribe_url
from seals.registry import programme_delete
from seals.services import seal_revoke
from tests.factories import MemberFactory, award


@pytest.fixture
def members(issuer):
    """Two members who want announcements, and one of each kind who must not get them."""
    wanted = [MemberFactory(issuer=issuer), MemberFactory(issuer=issuer)]
    opted_out = MemberFactory(issuer=issuer)
    opted_out.marketing_opt_out = True
    opted_out.save()
    restricted = MemberFactory(issuer=issuer)
    member_restrict(member=restricted, restricted=True, actor="test")
    erased = MemberFactory(issuer=issuer)
    erased.erased_at, erased.contact_email = timezone.now(), ""
    erased.save()
    for member in [*wanted, opted_out, restricted, erased]:
        award(member)
    return {"wanted": wanted, "opted_out": opted_out, "restricted": restricted, "erased": erased}


def _announce(issuer, *, body="Our annual meeting is on 3 May.\n\nBring your seal.", **kw):
    announcement = announcement_create(
        issuer=issuer,
        subject="Annual meeting",
        body=body,
        programme=kw.pop("programme", None),
        actor="staff:1",
    )
    return announcement_send(announcement=announcement, actor="staff:1", now=timezone.now())


def test_it_reaches_the_members_who_want_it_and_skips_the_others_with_the_reason(issuer, members):
    announcement = _announce(issuer)
    outbox.drain()

    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        m.contact_email for m in members["wanted"]
    )
    counts = announcement_counts(announcement)
    assert (counts.recipients, counts.sent, counts.skipped, counts.failed) == (5, 2, 3, 0)
    assert counts.skipped_by_reason == {"opted_out": 1, "restricted": 1, "erased": 1}
    announcement.refresh_from_db()
    assert announcement.status == "sent" and announcement.finished_at is not None


def test_sending_writes_the_status_its_outbox_message_and_an_audit_entry_together(issuer):
    draft = announcement_create(
        issuer=issuer, subject="S", body="B", programme=None, actor="staff:7"
    )
    assert not Message.objects.filter(topic=SEND_TOPIC).exists()
    sent = announcement_send(announcement=draft, actor="staff:7", now=timezone.now())
    assert sent.status == Announcement.Status.SENDING
    assert Message.objects.filter(topic=SEND_TOPIC, key=str(draft.pk)).count() == 1
    actions = list(AuditEntry.objects.filter(issuer=issuer).values_list("action", "actor"))
    assert ("announcement.created", "staff:7") in actions
    assert ("announcement.sent", "staff:7") in actions
    with pytest.raises(NotADraftError):
        announcement_send(announcement=draft, actor="staff:7", now=timezone.now())
    assert Message.objects.filter(topic=SEND_TOPIC).count() == 1


def test_each_mail_carries_one_click_unsubscribe_headers_and_both_parts(issuer, members):
    _announce(issuer, body="First <b>paragraph</b>\nsame one.\n\nSecond & last.")
    outbox.drain()
    message = next(m for m in mail.outbox if m.to == [members["wanted"][0].contact_email])
    member = members["wanted"][0]
    headers = message.extra_headers
    assert headers["List-Unsubscribe"] == f"<{unsubscribe_url(member)}>"
    assert (
        headers["List-Unsubscribe"].startswith("<https://")
        or "127.0.0.1" in headers["List-Unsubscribe"]
    )
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.subject == "Annual meeting"
    assert member.issuer.name in message.from_email
    html = message.alternatives[0].content
    assert message.alternatives[0].mimetype == "text/html"
    # Plain text made into escaped paragraphs: the staff's text cannot inject markup.
    assert "<p>First &lt;b&gt;paragraph&lt;/b&gt;<br>same one.</p>" in html
    assert "<p>Second &amp; last.</p>" in html
    assert "<b>" not in html
    assert "First <b>paragraph</b>" in message.body  # the text part is the text as written
    assert unsubscribe_url(member) in message.body
    assert "/console/portal/preferences/" in message.body and "/preferences/" in html
    assert f"/s/{member.seals.get().public_id}.png" in html


def test_rerunning_the_send_never_mails_anyone_twice(issuer, members):
    announcement = _announce(issuer)
    outbox.drain()
    assert len(mail.outbox) == 2
    # The same run again (a redelivered message), and a second plan: nothing more goes out.
    outcome = announcement_run(announcement_id=announcement.pk)
    assert (outcome.sent, outcome.finished) == (0, True)
    outbox.put(SEND_TOPIC, {"announcement_id": announcement.pk}, key=str(announcement.pk))
    outbox.drain()
    assert len(mail.outbox) == 2
    assert Recipient.objects.filter(announcement=announcement).count() == 5


def test_a_member_who_joins_after_the_plan_is_not_added_by_a_rerun(issuer, members):
    announcement = _announce(issuer)
    outbox.drain()
    award(MemberFactory(issuer=issuer))
    announcement_run(announcement_id=announcement.pk)
    assert Recipient.objects.filter(announcement=announcement).count() == 5
    assert len(mail.outbox) == 2


def test_it_sends_in_batches_and_stops_when_another_run_took_the_lease(issuer):
    for _ in range(5):
        award(MemberFactory(issuer=issuer))
    announcement = _announce(issuer)
    outcome = announcement_run(announcement_id=announcement.pk, batch=2, keep_lease=lambda: False)
    assert (outcome.sent, outcome.finished) == (2, False)
    outcome = announcement_run(announcement_id=announcement.pk, batch=2)
    assert (outcome.sent, outcome.finished) == (3, True)
    assert len(mail.outbox) == 5


def test_a_member_who_opts_out_after_the_plan_gets_nothing(issuer):
    first, second = MemberFactory(issuer=issuer), MemberFactory(issuer=issuer)
    announcement = _announce(issuer)
    announcement_run(announcement_id=announcement.pk, batch=1, keep_lease=lambda: False)
    late = second if mail.outbox[0].to == [first.contact_email] else first
    late.marketing_opt_out = True
    late.save()
    announcement_run(announcement_id=announcement.pk)
    assert len(mail.outbox) == 1
    assert announcement_counts(announcement).skipped_by_reason == {"opted_out": 1}


def test_the_programme_filter_reaches_holders_of_a_live_seal_of_it(issuer):
    gold = programme_create(issuer=issuer, slug="gold", name="Gold")
    holder, revoked, other = (MemberFactory(issuer=issuer) for _ in range(3))
    award(holder, programme=gold)
    seal_revoke(seal=award(revoked, programme=gold), reason="x", actor="t")
    award(other)
    _announce(issuer, programme=gold)
    outbox.drain()
    assert [m.to for m in mail.outbox] == [[holder.contact_email]]


def test_an_smtp_failure_is_retried_then_counted_as_failed(issuer, monkeypatch):
    member = MemberFactory(issuer=issuer)

    def refuse(self, *args, **kwargs):
        raise smtplib.SMTPServerDisconnected("gone")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", refuse)
    announcement = _announce(issuer)
    outcome = announcement_run(announcement_id=announcement.pk)
    assert outcome.retry_at is not None and not outcome.finished
    for day in range(1, MAX_ATTEMPTS):
        later = timezone.now() + timedelta(days=day)
        outcome = announcement_run(announcement_id=announcement.pk, now=lambda: later)  # noqa: B023
    assert outcome.finished
    row = Recipient.objects.get(announcement=announcement, member=member)
    assert (row.state, row.attempts) == ("failed", MAX_ATTEMPTS)
    assert announcement_counts(announcement).failed == 1


@pytest.mark.parametrize(
    ("subject", "body", "field"),
    [("", "text", "subject"), ("S", "  ", "body"), ("Two\nlines", "text", "subject")],
)
def test_bad_input_is_refused_and_nothing_is_written(issuer, subject, body, field):
    with pytest.raises(InvalidInputError) as refused:
        announcement_create(issuer=issuer, subject=subject, body=body, programme=None, actor="t")
    assert refused.value.field == field
    assert not Announcement.objects.exists()


def test_a_programme_of_another_issuer_is_refused(issuer, other_issuer):
    foreign = programme_create(issuer=other_issuer, slug="x", name="X")
    with pytest.raises(InvalidInputError):
        announcement_create(issuer=issuer, subject="S", body="B", programme=foreign, actor="t")


def test_a_programme_an_announcement_was_addressed_to_cannot_be_deleted(issuer):
    gold = programme_create(issuer=issuer, slug="gold", name="Gold")
    _announce(issuer, programme=gold)
    with pytest.raises(InUseError):
        programme_delete(programme=gold)
