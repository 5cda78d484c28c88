"""Counting impressions, verification views and misuse hits, and flushing them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine

from seals import stats
from seals.models import DailyStat
from tests.seals.public_helpers import seal_in

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_counters():
    stats._local.clear()
    yield
    stats._local.clear()


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


def test_counting_with_the_cache_down_drops_the_count_silently(monkeypatch):
    monkeypatch.setattr(stats, "_redis", lambda: (_ for _ in ()).throw(ConnectionError("x")))
    stats.count("AAAAAAAAAAAAAAAAAAAAAA", stats.IMPRESSION, day=datetime.now(UTC).date())


@pytest.mark.redis
def test_redis_counters_are_atomic_and_flush(client):
    seal = seal_in("active")
    with time_machine.travel(datetime(2030, 3, 2, 9, tzinfo=UTC), tick=False):
        for _ in range(5):
            client.get(f"/s/{seal.public_id}.svg")
        stats.flush_counts(now=datetime(2030, 3, 2, 9, 1, tzinfo=UTC))
    assert DailyStat.objects.get(seal=seal).impressions == 5
