"""The statistics page lists the other sites that showed the issuer's seals (seals.misuse_hosts):
per seal, or across the issuer's seals; another issuer's hosts never."""

from __future__ import annotations

from datetime import UTC, date, datetime

import time_machine
from django.urls import reverse

from seals.models import SealMisuseHost, SealMisuseHostDay

TODAY = date(2026, 11, 20)
SEEN = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


def host(seal, name: str, hits: int, day: date = TODAY) -> None:
    SealMisuseHost.objects.create(seal=seal, host=name, first_seen=SEEN, last_seen=SEEN)
    SealMisuseHostDay.objects.create(seal=seal, host=name, day=day, hits=hits)


@time_machine.travel("2026-11-20 12:00Z", tick=False)
def test_one_seals_hosts_with_hits_and_first_and_last_seen(world, viewer_client):
    host(world.seal, "copycat.example", 7)
    host(world.seal, "xn--bcker-gra.example:8443", 2)  # bäcker.example:8443
    host(world.seal, "long-ago.example", 5, day=date(2026, 1, 1))  # outside the window
    response = viewer_client.get(reverse("console:stats"), {"seal": world.seal.public_id})
    rows = response.context["misuse_hosts"]
    assert [(r.display, r.hits) for r in rows] == [
        ("copycat.example", 7),
        ("bäcker.example:8443", 2),
    ]
    page = response.content.decode()
    assert "Other sites showing the seal" in page
    assert "bäcker.example:8443" in page and "2026-11-02 09:30" in page
    assert "long-ago.example" not in page


@time_machine.travel("2026-11-20 12:00Z", tick=False)
def test_the_issuers_hosts_name_the_member_and_leave_other_issuers_out(world, viewer_client):
    host(world.seal, "copycat.example", 3)
    host(world.other_seal, "theirs.example", 99)
    response = viewer_client.get(reverse("console:stats"))
    page = response.content.decode()
    assert [r.host for r in response.context["misuse_hosts"]] == ["copycat.example"]
    assert world.seal.member.display_name in page
    assert f"?seal={world.seal.public_id}" in page
    assert "theirs.example" not in page


@time_machine.travel("2026-11-20 12:00Z", tick=False)
def test_no_host_is_said_in_plain_words(world, viewer_client):
    page = viewer_client.get(reverse("console:stats")).content.decode()
    assert "No other site showed the seal in this period." in page
