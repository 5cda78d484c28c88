"""The member's seal page links ``/check?domain=`` for each of the member's domains; the link
answers with the member's valid seal."""

from __future__ import annotations

import html
import re

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from issuers.models import Member
from seals.models import Seal
from tests.portal.conftest import request_link, use_link

pytestmark = pytest.mark.django_db


def hrefs(page: str, prefix: str) -> list[str]:
    return [html.unescape(h) for h in re.findall(r'href="([^"]+)"', page) if h.startswith(prefix)]


def follow(url: str) -> str:
    """GET a link as a visitor would: the path on this site, with no cookie."""
    path = url.removeprefix(settings.PUBLIC_BASE_URL)
    response = Client().get(path)
    assert response.status_code == 200, path
    assert not response.cookies
    return response.content.decode()


def test_the_portal_seal_page_checks_each_of_the_members_domains(signed_in, member):
    Member.objects.filter(pk=member.pk).update(domains=["acme.example", "shop.acme.example"])
    seal = Seal.objects.get(member=member)
    page = signed_in.get(reverse("portal:seal", args=[seal.public_id])).content.decode()
    links = hrefs(page, f"{settings.PUBLIC_BASE_URL}/check")
    assert links == [
        f"{settings.PUBLIC_BASE_URL}/check?domain=acme.example",
        f"{settings.PUBLIC_BASE_URL}/check?domain=shop.acme.example",
    ]
    assert "Check acme.example" in page
    answer = follow(links[0])
    assert "acme.example holds a valid seal" in answer and member.display_name in answer


def test_a_member_without_domains_is_told_where_to_add_them(member):
    Member.objects.filter(pk=member.pk).update(domains=[])
    client = Client()
    use_link(client, request_link(client, member.contact_email))
    seal = Seal.objects.get(member=member)
    page = client.get(reverse("portal:seal", args=[seal.public_id])).content.decode()
    assert not hrefs(page, f"{settings.PUBLIC_BASE_URL}/check")
    assert "add your domains under Corporate data" in page
