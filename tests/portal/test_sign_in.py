"""Signing in by a one-time link: once, for 15 minutes, the same answer for any address,
rate-limited, and a contact of several members chooses one."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from issuers.encryption import blind_index
from outbox import core as outbox
from portal.models import SignInLink
from portal.services import LINKS_PER_ADDRESS, sign_in_link_send
from tests.factories import MemberFactory
from tests.portal.conftest import ask, request_link, use_link

pytestmark = pytest.mark.django_db


def test_a_link_signs_in_once(member):
    client = Client()
    token = request_link(client, "Office@ACME.example")  # case does not matter
    assert mail.outbox[-1].to == ["office@acme.example"]
    assert use_link(client, token)["Location"] == reverse("portal:home")
    assert client.get(reverse("portal:home")).status_code == 200

    again = Client()
    response = use_link(again, token)
    assert response.status_code == 400
    assert again.get(reverse("portal:home"))["Location"] == reverse("portal:sign-in")


def test_the_token_is_stored_only_hashed(member):
    token = request_link(Client(), member.contact_email)
    stored = SignInLink.objects.get()
    assert token not in (stored.token_hash, stored.email_hash)
    assert len(stored.token_hash) == 64


def test_opening_the_link_does_not_spend_it(member):
    # Mail scanners fetch links: GET shows a button, only its POST signs in.
    client = Client()
    token = request_link(client, member.contact_email)
    assert client.get(reverse("portal:link", kwargs={"token": token})).status_code == 200
    assert use_link(client, token).status_code == 302


def test_a_link_expires_after_15_minutes(member):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        token = request_link(Client(), member.contact_email)
    with time_machine.travel(start + timedelta(minutes=14, seconds=59), tick=False):
        assert SignInLink.objects.filter(expires_at__gt=timezone.now()).exists()
    with time_machine.travel(start + timedelta(minutes=15, seconds=1), tick=False):
        client = Client()
        assert use_link(client, token).status_code == 400
        assert client.get(reverse("portal:home")).status_code == 302


def test_a_link_used_at_14_minutes_works(member):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        token = request_link(Client(), member.contact_email)
    with time_machine.travel(start + timedelta(minutes=14), tick=False):
        assert use_link(Client(), token).status_code == 302


def test_an_unknown_address_gets_the_same_answer_and_no_mail(member):
    known = ask(Client(), member.contact_email)
    sent = len(mail.outbox)
    unknown = ask(Client(), "nobody@else.example")
    assert len(mail.outbox) == sent == 1
    assert known.status_code == unknown.status_code == 200
    assert known.content == unknown.content
    assert SignInLink.objects.count() == 1


def test_an_erased_members_contact_gets_no_link(member):
    member.erased_at = timezone.now()
    member.save(update_fields=["erased_at"])
    assert request_link(Client(), member.contact_email) is None


def test_a_forged_link_signs_nobody_in():
    client = Client()
    assert use_link(client, "forged-token").status_code == 400
    assert client.get(reverse("portal:home")).status_code == 302


def test_links_per_address_are_limited_with_the_same_answer(member):
    answers = [ask(Client(), member.contact_email) for _ in range(LINKS_PER_ADDRESS + 1)]
    assert len(mail.outbox) == LINKS_PER_ADDRESS
    assert {a.content for a in answers} == {answers[0].content}


@pytest.mark.usefixtures("one_rate_window")
def test_requests_per_network_are_rate_limited(settings, member):
    settings.PUBLIC_RATE_LIMITS = {**settings.PUBLIC_RATE_LIMITS, "portal-sign-in": 2}
    client = Client()
    codes = [ask(client, f"x{i}@a.example").status_code for i in range(3)]
    assert codes == [200, 200, 429]
    refused = ask(client, member.contact_email)
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    # The sign-in page again, in words, not a machine's problem document.
    assert refused["Content-Type"].startswith("text/html")
    assert "Too many sign-in requests from your network" in refused.content.decode()
    assert mail.outbox == []


def test_a_contact_of_several_members_chooses_one(member):
    other = MemberFactory(contact_email=member.contact_email)  # another issuer's member
    client = Client()
    token = request_link(client, member.contact_email)
    assert use_link(client, token)["Location"] == reverse("portal:choose")
    assert client.get(reverse("portal:home"))["Location"] == reverse("portal:choose")
    page = client.get(reverse("portal:choose")).content.decode()
    assert member.display_name in page and other.display_name in page

    stranger = MemberFactory()
    refused = client.post(reverse("portal:choose"), {"member": stranger.pk})
    assert refused.status_code == 404
    client.post(reverse("portal:choose"), {"member": other.pk})
    home = client.get(reverse("portal:home")).content.decode()
    assert other.issuer.name in home


def test_a_changed_contact_address_ends_the_old_sign_in(signed_in, member):
    member.contact_email = "new@acme.example"
    member.contact_email_hash = blind_index(member.contact_email)
    member.save(update_fields=["contact_email", "contact_email_hash"])
    assert signed_in.get(reverse("portal:home")).status_code == 302


def test_signing_out_ends_the_session(signed_in):
    signed_in.post(reverse("portal:sign-out"))
    assert signed_in.get(reverse("portal:home")).status_code == 302


def test_cookies_stay_on_the_console_path(member):
    client = Client()
    token = request_link(client, member.contact_email)
    response = use_link(client, token)
    assert response.cookies["sessionid"]["path"] == "/console/"
    assert response.cookies["sessionid"]["httponly"]
    redirect = Client().get("/portal/")
    assert redirect.status_code == 302 and redirect["Location"] == reverse("portal:home")
    assert not redirect.cookies


def test_the_worker_mails_one_link_per_request_even_when_run_twice(member):
    request_link(Client(), member.contact_email)
    link = SignInLink.objects.get()
    assert sign_in_link_send(link_id=link.pk) is False
    assert len(mail.outbox) == 1


def test_a_failed_mail_gives_the_link_back_for_a_retry(member, monkeypatch):
    def down(*args, **kwargs):
        raise OSError("mail server down")

    monkeypatch.setattr("portal.services.send_mail", down)
    Client().post(reverse("portal:sign-in"), {"email": member.contact_email})
    outbox.drain()
    link = SignInLink.objects.get()
    assert link.token_hash is None and mail.outbox == []
    monkeypatch.undo()
    assert sign_in_link_send(link_id=link.pk) is True
    assert len(mail.outbox) == 1


def test_the_demo_prints_the_member_portal(settings, tmp_path):
    from io import StringIO

    from django.core.management import call_command

    settings.VAR_DIR = tmp_path
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:8010"
    out = StringIO()
    call_command("demo", "--sink-port", "8123", stdout=out)
    assert "Member portal: http://127.0.0.1:8010/portal/" in out.getvalue().splitlines()
