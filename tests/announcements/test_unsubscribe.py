"""RFC 8058 one-click unsubscribe from an announcement's own header, with no cookie or CSRF."""

from __future__ import annotations

import re

from django.core import mail
from django.test import Client
from django.utils import timezone

from announcements.services import announcement_create, announcement_send
from outbox import core as outbox
from privacy.unsubscribe import unsubscribe_url
from tests.factories import MemberFactory


def test_the_one_click_post_from_the_header_unsubscribes_and_sets_no_cookie(issuer):
    member = MemberFactory(issuer=issuer)
    announcement = announcement_create(
        issuer=issuer, subject="News", body="Hello.", programme=None, actor="t"
    )
    announcement_send(announcement=announcement, actor="t", now=timezone.now())
    outbox.drain()
    header = mail.outbox[0].extra_headers["List-Unsubscribe"]
    url = re.fullmatch(r"<(https?://[^>]+)>", header).group(1)
    path = url.split("//", 1)[1].split("/", 1)[1]

    # As a mail provider sends it: no cookie, no CSRF token, the RFC 8058 body.
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        "/" + path,
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers and not response.cookies
    assert "/console/portal/preferences/" in response.content.decode()
    member.refresh_from_db()
    assert member.marketing_opt_out is True

    # The next announcement skips the member.
    second = announcement_create(
        issuer=issuer, subject="More", body="Again.", programme=None, actor="t"
    )
    announcement_send(announcement=second, actor="t", now=timezone.now())
    outbox.drain()
    assert len(mail.outbox) == 1


def test_a_get_only_asks_and_changes_nothing(issuer):
    member = MemberFactory(issuer=issuer)
    path = unsubscribe_url(member).split("//", 1)[1].split("/", 1)[1]
    response = Client().get("/" + path)
    assert response.status_code == 200 and not response.cookies
    member.refresh_from_db()
    assert member.marketing_opt_out is False
