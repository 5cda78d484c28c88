"""Counting impressions, verification views and misuse hits, and flushing them."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime

import pytest
import time_machine

from privacy.services import member_restrict
from seals import stats
from seals.models import DailyStat
from tests.seals.public_helpers import seal_in

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_stat_counters")]


def test_counts_flush_into_daily_stats_idempotently(client):
    with time_machine.travel(datetime(2030, 3, 1, 10, tzinfo=UTC), tick=False):
        seal = seal_in("active")
        client.get(f"/s/{seal.public_id}.svg")
        client.get(f"/s/{seal.public_id}.png")
        client.get(f"/s/{seal.public_id}.svg?d=copycat.example")
        client.get(f"/verify/{seal.public_id}")
        client.get(f"/verify/{seal.public_id}", HTTP_REFERER="https://copycat.example/")
        now = datetime(2030, 3, 1, 10, 1, tzinfo=UTC)
        assert stats.flush_counts(now=now) == 1
        assert stats.flush_counts(now=now) == 1  # twice: same totals
    row = DailyStat.objects.get(seal=seal)
    assert (row.day.isoformat(), row.impressions, row.verification_views, row.misuse_hits) == (
        "2030-03-01",
        3,
        2,
        2,
    )


def test_a_flush_never_moves_a_count_backwards():
    seal = seal_in("active")
    day = datetime(2030, 3, 1, tzinfo=UTC).date()
    DailyStat.objects.create(seal=seal, day=day, impressions=10)
    stats.count(seal.public_id, stats.IMPRESSION, day=day)
    stats.flush_counts(now=datetime(2030, 3, 1, 12, tzinfo=UTC))
    assert DailyStat.objects.get(seal=seal).impressions == 10


def test_counting_with_the_cache_down_drops_the_count_silently(monkeypatch, caplog):
    day = datetime(2030, 3, 1, tzinfo=UTC).date()
    reached = []

    def cache_down():
        reached.append(True)
        raise ConnectionError("cache down")

    # One hit fills the buffer, so this very count pushes and meets the dead cache.
    monkeypatch.setattr(stats, "FLUSH_EVERY_HITS", 1)
    monkeypatch.setattr(stats, "_redis", cache_down)
    stats.count("AAAAAAAAAAAAAAAAAAAAAA", stats.IMPRESSION, day=day)  # returns, never raises
    assert reached, "the push never reached the cache: nothing here was tested"
    assert "1 buffered counts dropped" in caplog.text
    monkeypatch.undo()
    stats.push()
    assert stats._totals(day) == {}  # dropped, not kept for later


@pytest.mark.redis
def test_redis_counters_are_atomic_and_flush(client):
    seal = seal_in("active")
    with time_machine.travel(datetime(2030, 3, 2, 9, tzinfo=UTC), tick=False):
        for _ in range(5):
            client.get(f"/s/{seal.public_id}.svg")
        stats.flush_counts(now=datetime(2030, 3, 2, 9, 1, tzinfo=UTC))
    assert DailyStat.objects.get(seal=seal).impressions == 5


def test_a_hit_is_buffered_in_the_process_until_pushed():
    day = datetime(2030, 3, 1, tzinfo=UTC).date()
    stats.count("AAAAAAAAAAAAAAAAAAAAAA", stats.IMPRESSION, stats.MISUSE, day=day)
    stats.count("AAAAAAAAAAAAAAAAAAAAAA", stats.IMPRESSION, day=day)
    assert stats._totals(day) == {}
    stats.push()
    assert stats._totals(day) == {"AAAAAAAAAAAAAAAAAAAAAA:i": 2, "AAAAAAAAAAAAAAAAAAAAAA:m": 1}


def test_the_hit_that_fills_the_buffer_pushes_it(monkeypatch):
    monkeypatch.setattr(stats, "FLUSH_EVERY_HITS", 3)
    day = datetime(2030, 3, 1, tzinfo=UTC).date()
    for _ in range(2):
        stats.count("BBBBBBBBBBBBBBBBBBBBBB", stats.IMPRESSION, day=day)
    assert stats._totals(day) == {}
    stats.count("BBBBBBBBBBBBBBBBBBBBBB", stats.IMPRESSION, day=day)
    assert stats._totals(day) == {"BBBBBBBBBBBBBBBBBBBBBB:i": 3}


def test_concurrent_hits_are_all_counted():
    import threading

    day = datetime(2030, 3, 1, tzinfo=UTC).date()

    def hits():
        for _ in range(500):
            stats.count("CCCCCCCCCCCCCCCCCCCCCC", stats.IMPRESSION, day=day)

    threads = [threading.Thread(target=hits) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stats.push()
    assert stats._totals(day) == {"CCCCCCCCCCCCCCCCCCCCCC:i": 4000}


def test_a_failed_push_drops_only_what_it_took(monkeypatch):
    day = datetime(2030, 3, 1, tzinfo=UTC).date()
    stats.count("DDDDDDDDDDDDDDDDDDDDDD", stats.IMPRESSION, day=day)
    monkeypatch.setattr(stats, "_redis", lambda: (_ for _ in ()).throw(ConnectionError("x")))
    stats.push()  # never raises
    monkeypatch.undo()
    stats.count("DDDDDDDDDDDDDDDDDDDDDD", stats.IMPRESSION, day=day)
    stats.push()
    assert stats._totals(day) == {"DDDDDDDDDDDDDDDDDDDDDD:i": 1}


def test_a_restricted_members_views_are_never_written_to_daily_stats(client):
    """docs/privacy.md: a restricted member's seals are left out of statistics, and what was
    counted while the restriction held is not written after it is lifted either."""
    seal = seal_in("active")
    other = seal_in("active")
    member_restrict(member=seal.member, restricted=True, actor="test")
    with time_machine.travel(datetime(2030, 3, 1, 10, tzinfo=UTC), tick=False):
        for public_id in (seal.public_id, other.public_id):
            client.get(f"/s/{public_id}.svg")
            client.get(f"/s/{public_id}.png?d=copycat.example")
            client.get(f"/verify/{public_id}")
        now = datetime(2030, 3, 1, 10, 1, tzinfo=UTC)
        assert stats.flush_counts(now=now) == 1
        member_restrict(member=seal.member, restricted=False, actor="test")
        stats.flush_counts(now=now)
    assert not DailyStat.objects.filter(seal=seal).exists()
    row = DailyStat.objects.get(seal=other)
    assert (row.impressions, row.verification_views, row.misuse_hits) == (2, 1, 1)


def test_json_verifications_are_counted_as_verification_views(client):
    with time_machine.travel(datetime(2030, 3, 1, 10, tzinfo=UTC), tick=False):
        seal = seal_in("active")
        assert client.get(f"/verify/{seal.public_id}.json").status_code == 200
        client.get(f"/verify/{seal.public_id}.json", HTTP_REFERER="https://copycat.example/")
        client.get(f"/verify/{seal.public_id}")
        stats.flush_counts(now=datetime(2030, 3, 1, 10, 1, tzinfo=UTC))
    row = DailyStat.objects.get(seal=seal)
    assert (row.impressions, row.verification_views, row.misuse_hits) == (0, 3, 0)


# Another process stands for make run's worker (or a second web process): every process must
# see the same counters, whatever the cache (the embedded default's disk cache, or Redis).
_COUNT_IN_ANOTHER_PROCESS = """
import sys, django
django.setup()
from datetime import date
from seals import stats
public_id, day, hits = sys.argv[1], date.fromisoformat(sys.argv[2]), int(sys.argv[3])
for n in range(hits):
    stats.count(public_id, stats.IMPRESSION, day=day)
    if n % 25 == 0:
        stats.push()  # many small read-modify-writes, racing the other process's
stats.push()
"""
_FLUSH_IN_ANOTHER_PROCESS = """
import django
django.setup()
from datetime import UTC, datetime
from seals import stats
print(stats.flush_counts(now=datetime.now(UTC)))
"""


def _python(code: str, *args: str) -> subprocess.Popen:
    from tests.workers.harness import ROOT, process_env

    return subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", code, *args],
        cwd=ROOT,
        env=process_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _finished(process: subprocess.Popen) -> str:
    output, _ = process.communicate(timeout=120)
    assert process.returncode == 0, output
    return output


@pytest.mark.django_db(transaction=True)  # the other process reads committed rows only
def test_counts_pushed_by_the_web_process_are_flushed_by_another_process(client):
    seal = seal_in("active")
    client.get(f"/s/{seal.public_id}.svg")
    client.get(f"/s/{seal.public_id}.png?d=copycat.example")
    client.get(f"/verify/{seal.public_id}")
    client.get(f"/verify/{seal.public_id}.json")
    stats.push()
    assert _finished(_python(_FLUSH_IN_ANOTHER_PROCESS)).strip().endswith("1")
    row = DailyStat.objects.get(seal=seal)
    assert (row.impressions, row.verification_views, row.misuse_hits) == (2, 2, 1)


def test_two_processes_counting_at_once_lose_no_count():
    day = datetime.now(UTC).date()
    public_id = "CCCCCCCCCCCCCCCCCCCCCC"
    others = [_python(_COUNT_IN_ANOTHER_PROCESS, public_id, day.isoformat(), "300") for _ in "ab"]
    for _ in range(300):  # and this process at the same time
        stats.count(public_id, stats.IMPRESSION, day=day)
        stats.push()
    for other in others:
        _finished(other)
    assert stats._totals(day)[f"{public_id}:i"] == 900


def test_the_badge_on_this_services_own_pages_is_not_an_impression(client, settings):
    # The verification page shows the seal's own image: its request carries the page's URL as
    # Referer (this service's origin). A page view is one verification view, not also an
    # impression; nor is the embed preview or a console or portal page showing the badge.
    with time_machine.travel(datetime(2030, 3, 1, 10, tzinfo=UTC), tick=False):
        seal = seal_in("active")
        image = f"/s/{seal.public_id}.png?size=large"
        page = f"/verify/{seal.public_id}"
        client.get(page)
        client.get(image, HTTP_REFERER=f"http://testserver{page}")
        client.get(image, HTTP_REFERER=f"{settings.PUBLIC_BASE_URL}{page}")
        client.get(image + "&scale=2", HTTP_REFERER="http://testserver/portal/")
        # Even with a ?d= naming another site: nobody saw it there.
        client.get(image + "&d=copycat.example", HTTP_REFERER=f"http://testserver{page}")
        # Another port of this service's host is another site, counted.
        client.get(image, HTTP_REFERER="http://testserver:8081/")
        stats.flush_counts(now=datetime(2030, 3, 1, 10, 1, tzinfo=UTC))
    row = DailyStat.objects.get(seal=seal)
    assert (row.impressions, row.verification_views, row.misuse_hits) == (1, 1, 1)
