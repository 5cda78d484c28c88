"""A member's data export names the announcements addressed to it: sent, or skipped and why."""

from __future__ import annotations

import pytest
from django.utils import timezone

from announcements.services import announcement_create, announcement_send
from outbox import core as outbox
from privacy.services import member_export
from seals.registry import member_update
from tests.factories import IssuerFactory, MemberFactory

pytestmark = pytest.mark.django_db


def test_the_export_lists_each_announcement_with_its_outcome():
    issuer = IssuerFactory()
    member, other = MemberFactory(issuer=issuer), MemberFactory(issuer=issuer)
    first = announcement_create(
        issuer=issuer, subject="Spring fair", body="On 3 May.", programme=None, actor="t"
    )
    announcement_send(announcement=first, actor="t", now=timezone.now())
    outbox.drain()
    member_update(member=member, actor="t", marketing_opt_out=True)
    second = announcement_create(
        issuer=issuer, subject="Autumn fair", body="On 3 Oct.", programme=None, actor="t"
    )
    announcement_send(announcement=second, actor="t", now=timezone.now())
    outbox.drain()

    received = member_export(member)["announcements"]
    assert [(a["subject"], a["state"], a["skipped_because"]) for a in received] == [
        ("Spring fair", "sent", None),
        ("Autumn fair", "skipped", "opted_out"),
    ]
    assert received[0]["body"] == "On 3 May." and received[0]["sent_at"]
    assert received[1]["sent_at"] is None
    # Another member's export holds its own rows only.
    assert [a["state"] for a in member_export(other)["announcements"]] == ["sent", "sent"]
    assert member_export(MemberFactory())["announcements"] == []
