"""Misuse per seal, per day, per foreign host: counted by the views, written by the stats flush,
announced once with ``seal.misuse_detected``, kept as long as the daily statistics."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine

from effects.webhooks import webhook_endpoint_create
from issuers.models import WebhookDelivery
from outbox.models import Message
from privacy.retention import retention_run
from privacy.services import member_restrict
from seals import misuse_hosts, stats
from seals.misuse_hosts import MISUSE_EVENT, seal_misuse_hosts
from seals.models import DailyStat, SealMisuseHost, SealMisuseHostDay
from tests.seals.public_helpers import seal_in

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_stat_counters")]

MORNING = datetime(2030, 3, 1, 10, tzinfo=UTC)


def flush(at: datetime) -> int:
    return stats.flush_counts(now=at)


def misuse_deliveries():
    return list(WebhookDelivery.objects.filter(event_type=MISUSE_EVENT).order_by("pk"))


def test_a_foreign_referer_gets_the_misuse_seal_without_javascript(client):
    seal = seal_in("active")
    url = f"/s/{seal.public_id}.svg"
    foreign = client.get(url, HTTP_REFERER="https://copycat.example/about")
    own = client.get(url, HTTP_REFERER="https://www.shop.example/")
    none = client.get(url)
    other_port = client.get(url, HTTP_REFERER="https://shop.example:8443/")
    assert "Not verified for this site" in foreign.content.decode()
    assert "Not verified for this site" in other_port.content.decode()
    for answer in (own, none):
        assert ">Valid<" in answer.content.decode()
        assert "Not verified for this site" not in answer.content.decode()
    assert foreign["ETag"] != own["ETag"] == none["ETag"]
    assert foreign["Vary"] == own["Vary"] == "Referer"
    # Conditional requests keep the variants apart too: the member's ETag is no 304 elsewhere.
    again = client.get(url, HTTP_REFERER="https://copycat.example/", HTTP_IF_NONE_MATCH=own["ETag"])
    assert again.status_code == 200


def test_a_revoked_seal_shows_revoked_on_a_foreign_site_and_the_host_is_still_counted(client):
    seal = seal_in("revoked")
    with time_machine.travel(MORNING, tick=False):
        body = client.get(
            f"/s/{seal.public_id}.svg", HTTP_REFERER="https://copycat.example/"
        ).content.decode()
        flush(MORNING)
    assert ">Revoked<" in body
    assert SealMisuseHostDay.objects.get(seal=seal).hits == 1


def test_hits_per_host_flush_next_to_the_daily_totals_idempotently(client):
    seal = seal_in("active")
    webhook_endpoint_create(issuer=seal.issuer, url="https://hooks.example/x")
    with time_machine.travel(MORNING, tick=False):
        for referer in (
            "https://copycat.example/a",
            "https://copycat.example/b?q=1",
            "https://shop.example:8443/",
            "https://shop.example/",  # the member's own: no host row
            "http://203.0.113.7/",  # an address: misuse, never recorded
        ):
            client.get(f"/s/{seal.public_id}.png", HTTP_REFERER=referer)
        client.get(f"/verify/{seal.public_id}", HTTP_REFERER="https://other.example/")
        client.get(f"/s/{seal.public_id}.svg?d=scripted.example")
        flush(MORNING)
        flush(MORNING)  # twice: the same rows, no second event
    days = dict(SealMisuseHostDay.objects.filter(seal=seal).values_list("host", "hits"))
    assert days == {
        "copycat.example": 2,
        "shop.example:8443": 1,
        "other.example": 1,
        "scripted.example": 1,
    }
    assert DailyStat.objects.get(seal=seal).misuse_hits == 6
    hosts = SealMisuseHost.objects.filter(seal=seal)
    assert {h.host for h in hosts} == set(days)
    assert {h.first_seen for h in hosts} == {MORNING}
    events = misuse_deliveries()
    assert sorted(d.payload["data"]["host"] for d in events) == sorted(days)
    copycat = next(d for d in events if d.payload["data"]["host"] == "copycat.example")
    assert copycat.payload["data"] == {
        "seal": seal.public_id,
        "member": seal.member.external_ref,
        "host": "copycat.example",
        "first_seen": MORNING.isoformat(),
        "hits": 2,
    }
    # Each delivery is owed through the outbox, written with it.
    assert Message.objects.filter(topic="webhook.deliver").count() == len(events)


def test_a_host_is_announced_once_however_many_days_it_returns(client):
    seal = seal_in("active")
    webhook_endpoint_create(issuer=seal.issuer, url="https://hooks.example/x")
    for day in (1, 2, 3):
        at = datetime(2030, 3, day, 12, tzinfo=UTC)
        with time_machine.travel(at, tick=False):
            client.get(f"/s/{seal.public_id}.svg", HTTP_REFERER="https://copycat.example/")
            flush(at)
    row = SealMisuseHost.objects.get(seal=seal)
    assert (row.first_seen.day, row.last_seen.day) == (1, 3)
    assert SealMisuseHostDay.objects.filter(seal=seal).count() == 3
    assert len(misuse_deliveries()) == 1


def test_yesterdays_hits_flushed_after_midnight_are_dated_yesterday(client):
    seal = seal_in("active")
    with time_machine.travel(datetime(2030, 3, 1, 23, 59, 59, tzinfo=UTC), tick=False):
        client.get(f"/s/{seal.public_id}.svg", HTTP_REFERER="https://copycat.example/")
    flush(datetime(2030, 3, 2, 0, 0, 30, tzinfo=UTC))
    row = SealMisuseHost.objects.get(seal=seal)
    assert row.first_seen.date() == date(2030, 3, 1)
    assert SealMisuseHostDay.objects.get(seal=seal).day == date(2030, 3, 1)


def test_forged_referers_record_a_bounded_number_of_new_hosts(client, monkeypatch):
    monkeypatch.setattr(misuse_hosts, "NEW_HOSTS_PER_SEAL_DAY", 3)
    seal = seal_in("active")
    with time_machine.travel(MORNING, tick=False):
        for n in range(6):
            for _ in range(n + 1):  # host5 the busiest
                client.get(f"/s/{seal.public_id}.svg", HTTP_REFERER=f"https://host{n}.example/")
        flush(MORNING)
    assert set(SealMisuseHost.objects.values_list("host", flat=True)) == {
        "host5.example",
        "host4.example",
        "host3.example",
    }
    assert DailyStat.objects.get(seal=seal).misuse_hits == 21  # every hit still counted


def test_a_restricted_members_hosts_are_never_written(client):
    seal = seal_in("active")
    member_restrict(member=seal.member, restricted=True, actor="test")
    client.get(f"/s/{seal.public_id}.svg", HTTP_REFERER="https://copycat.example/")
    flush(datetime.now(UTC))
    assert not SealMisuseHost.objects.exists()
    assert not SealMisuseHostDay.objects.exists()


def test_the_hosts_of_a_seal_over_a_window(client):
    seal = seal_in("active")
    for day, referer in (
        (1, "https://a.example/"),
        (2, "https://a.example/"),
        (2, "https://b.example/"),
    ):
        at = datetime(2030, 3, day, 12, tzinfo=UTC)
        with time_machine.travel(at, tick=False):
            client.get(f"/s/{seal.public_id}.svg", HTTP_REFERER=referer)
            flush(at)
    rows = seal_misuse_hosts(seal=seal, date_from=date(2030, 3, 1), date_to=date(2030, 3, 2))
    assert [(r.host, r.hits) for r in rows] == [("a.example", 2), ("b.example", 1)]
    only_first = seal_misuse_hosts(seal=seal, date_from=date(2030, 3, 1), date_to=date(2030, 3, 1))
    assert [(r.host, r.hits) for r in only_first] == [("a.example", 1)]


def test_host_rows_go_with_the_daily_statistics(client, settings):
    settings.RETENTION_DAILY_STATS_MONTHS = 1
    seal = seal_in("active")
    for at, referer in (
        (datetime(2030, 1, 10, 12, tzinfo=UTC), "https://old.example/"),
        (datetime(2030, 3, 1, 12, tzinfo=UTC), "https://recent.example/"),
    ):
        with time_machine.travel(at, tick=False):
            client.get(f"/s/{seal.public_id}.svg", HTTP_REFERER=referer)
            flush(at)
    report = retention_run(now=datetime(2030, 3, 5, tzinfo=UTC))
    assert report.stats_days_folded == 1  # January's day row, into its month
    assert report.misuse_hosts_deleted == 2  # its host row and its day row
    assert list(SealMisuseHost.objects.values_list("host", flat=True)) == ["recent.example"]
    assert list(SealMisuseHostDay.objects.values_list("host", flat=True)) == ["recent.example"]
