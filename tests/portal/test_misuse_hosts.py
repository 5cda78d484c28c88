"""The member's seal page lists the hosts that showed it (seals.misuse_hosts), its own only."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from seals.models import Seal, SealMisuseHost, SealMisuseHostDay
from tests.factories import MemberFactory, award

pytestmark = pytest.mark.django_db
SEEN = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


def host(seal: Seal, name: str, hits: int) -> None:
    SealMisuseHost.objects.create(seal=seal, host=name, first_seen=SEEN, last_seen=SEEN)
    SealMisuseHostDay.objects.create(seal=seal, host=name, day=timezone.now().date(), hits=hits)


def test_the_seal_page_lists_the_hosts_that_showed_it(signed_in, member):
    with scopes_disabled():
        seal = Seal.objects.get(member=member)
        host(seal, "copycat.example", 4)
        host(award(MemberFactory(issuer=member.issuer)), "someone-elses.example", 9)
    page = signed_in.get(reverse("portal:seal", args=[seal.public_id])).content.decode()
    assert "Hosts that showed it" in page
    assert "copycat.example" in page and "2026-11-02 09:30" in page
    assert "someone-elses.example" not in page


def test_without_hosts_the_page_says_so(signed_in, member):
    with scopes_disabled():
        seal = Seal.objects.get(member=member)
    page = signed_in.get(reverse("portal:seal", args=[seal.public_id])).content.decode()
    assert "No other site showed this seal in this period." in page
