"""``/check?domain=`` is linked from the site root and from the console's member page (one link
per domain of the member, answering with its valid seal)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import reverse

from tests.portal.test_check_links import follow, hrefs

pytestmark = pytest.mark.django_db


def test_the_site_root_links_the_check_and_asks_for_a_website(client):
    page = client.get("/").content.decode()
    assert hrefs(page, "/check") == ["/check"]
    assert '<form method="get" action="/check"' in page
    assert '<input id="check-domain" name="domain"' in page


def test_the_console_member_page_links_the_public_check(world, viewer_client):
    member = world.member
    page = viewer_client.get(reverse("console:member", args=[member.pk])).content.decode()
    links = hrefs(page, f"{settings.PUBLIC_BASE_URL}/check")
    assert links == [f"{settings.PUBLIC_BASE_URL}/check?domain={d}" for d in member.domains]
    assert f"Which seals are valid for {member.domains[0]}" in page
    answer = follow(links[0])
    assert f"{member.domains[0]} holds a valid seal" in answer
