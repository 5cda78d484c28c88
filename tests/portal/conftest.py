"""Portal fixtures: a member with a seal, a member of another issuer, a signed-in client."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from issuers.models import Member
from outbox import core as outbox
from tests.factories import MemberFactory, award

LINK = re.compile(r"https?://\S+/console/portal/link/(?P<token>[^/\s]+)/")


def ask(client: Client, email: str):
    """POST the sign-in form, then run the outbox as a worker would (it mails the link)."""
    response = client.post(reverse("portal:sign-in"), {"email": email})
    outbox.drain()
    return response


def request_link(client: Client, email: str) -> str | None:
    """Ask for a link; the token of the mail it sent, or None when none went out."""
    before = len(mail.outbox)
    ask(client, email)
    if len(mail.outbox) == before:
        return None
    return LINK.search(mail.outbox[-1].body).group("token")


def use_link(client: Client, token: str):
    return client.post(reverse("portal:link", kwargs={"token": token}))


@pytest.fixture
def member(db) -> Member:
    member = MemberFactory(contact_email="office@acme.example")
    award(member)
    return member


@pytest.fixture
def signed_in(member) -> Client:
    client = Client()
    token = request_link(client, member.contact_email)
    response = use_link(client, token)
    assert response.status_code == 302 and response["Location"] == reverse("portal:home")
    return client
