"""Redis behind Sentinel: the primary killed under load, and every public answer stays true.

A private Redis primary, its replica and three Sentinels (tests/replication/engines.py). The
cache (with the fast path's tracked copies) is configured as REDIS_SENTINELS makes it; the
broker is kombu's sentinel:// transport with the options settings build.
"""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connections
from django.test import Client
from django.utils import timezone

from effects.notices import SEND_TOPIC, notices_plan
from effects.webhooks import webhook_endpoint_create
from outbox.models import Message
from seals.models import Notice
from seals.services import seal_revoke
from tests.factories import MemberFactory, award
from tests.replication.engines import wait_for

pytestmark = [pytest.mark.slow, pytest.mark.replication]


@pytest.fixture
def sentinel_cache(settings, redis_sentinels):
    settings.REDIS_SENTINELS = redis_sentinels.sentinels
    settings.REDIS_CONFIGURED = True
    # One reader asks as fast as it can: far past the per-network limit, which would answer 429.
    settings.PUBLIC_RATE_LIMITS = dict.fromkeys(settings.PUBLIC_RATE_LIMITS, 0)
    settings.CACHES = {
        "default": {
            "BACKEND": "fastpath.cache.RedisCache",
            "LOCATION": f"sentinel://{redis_sentinels.master_name}/0",
            "KEY_PREFIX": f"ts-sentinel-{time.monotonic_ns()}",
            "OPTIONS": {
                "socket_connect_timeout": 0.5,
                "socket_timeout": 0.5,
                "sentinels": redis_sentinels.sentinels,
                "service_name": redis_sentinels.master_name,
                "db": 0,
            },
        }
    }
    from fastpath.cache import RedisCache

    saved = dict(RedisCache.mirrors)
    RedisCache.mirrors.clear()  # this test's tracking connections, not another test's
    yield redis_sentinels
    for mirror in RedisCache.mirrors.values():
        mirror.close()
    RedisCache.mirrors.clear()
    RedisCache.mirrors.update(saved)


def _statuses(sid: str) -> list[str]:
    client = Client()
    document = client.get(f"/verify/{sid}.json")
    image = client.get(f"/s/{sid}.svg").content.decode()
    words = {">Valid<": "active", ">Revoked<": "revoked"}
    drawn = next((status for word, status in words.items() if word in image), "other")
    return [document.json()["status"] if document.status_code == 200 else "error", drawn]


@pytest.mark.django_db(transaction=True)  # invalidations run after commit, as in production
def test_killing_the_redis_primary_under_load_keeps_every_answer_true(sentinel_cache, issuer):
    from django.core.cache import cache

    engines = sentinel_cache
    old_master = engines.master_port()
    webhook_endpoint_create(issuer=issuer, url="https://hooks.example/seals")
    seal = award(MemberFactory(issuer=issuer))
    expiring = award(MemberFactory(issuer=issuer), days=5)  # within the nearest notice threshold
    assert _statuses(seal.public_id) == ["active", "active"]
    assert _broker_round_trip(engines, 1) == {"n": 1}

    revoked, stop = threading.Event(), threading.Event()
    answers: list[tuple[bool, list[str]]] = []

    def load() -> None:  # a bounded load: one reader, as fast as it goes
        try:
            while not stop.is_set():
                after = revoked.is_set()  # read before the request starts
                answers.append((after, _statuses(seal.public_id)))
        finally:
            connections.close_all()

    reader = threading.Thread(target=load)
    reader.start()
    try:
        time.sleep(0.3)
        engines.kill(old_master)
        revoked_seal = seal_revoke(seal=seal, reason="fraud", actor="test")  # mid-failover
        revoked.set()
        planned = notices_plan(now=timezone.now())  # the expiry notice falls due mid-failover too
        wait_for(lambda: engines.master_port() != old_master, within=20, what="the failover")
        time.sleep(1.0)  # the load goes on against the new primary
    finally:
        stop.set()
        reader.join(30)

    after = [statuses for was_revoked, statuses in answers if was_revoked]
    assert after, "no answer was given after the revocation"
    wrong = [(i, s) for i, s in enumerate(after) if s != ["revoked", "revoked"]]
    assert not wrong, f"{len(wrong)} of {len(after)} answers after the revocation: {wrong[:10]}"
    assert any(s == ["active", "active"] for was, s in answers if not was)
    # The app follows the new primary: its writes land there, its tracking reads from there.
    new_master = engines.master_port()
    cache.set("after-failover", "here", 60)
    import redis

    assert redis.Redis(port=new_master).get(cache.make_key("after-failover")) is not None
    copies = cache.local_copies("pub:gen:")
    assert copies is not None
    wait_for(
        lambda: _statuses(seal.public_id) and copies.mirror._sock is not None,
        within=10,
        what="the tracking connection to the new primary",
    )
    assert copies.mirror._sock.getpeername()[1] == new_master
    # The broker, too: a message published now goes to the new primary and comes back.
    assert _broker_round_trip(engines, 2) == {"n": 2}
    # No side effect lost: the revocation's webhook is owed in the outbox whatever Redis did.
    owed = Message.objects.filter(topic__startswith="webhook")
    assert owed.exists(), list(Message.objects.values_list("topic", flat=True))
    assert revoked_seal.status == "revoked"
    # And the notice that fell due: its row and its outbox message, whatever Redis did.
    assert planned.created >= 1
    # The nearest threshold's notice is owed; the larger ones it passed are skipped.
    notice = Notice.objects.get(seal=expiring, state=Notice.State.PENDING)
    assert Message.objects.filter(topic=SEND_TOPIC, key=str(notice.pk)).exists()


def _broker_round_trip(engines, n: int) -> object:
    """Publish and consume one message through kombu's sentinel:// transport, with the
    options settings build (tests/test_settings.py)."""
    from kombu import Connection

    url = ";".join(f"sentinel://{s}/0" for s in engines.sentinels)
    options = {"master_name": engines.master_name, "socket_timeout": 2, "max_retries": 3}
    with Connection(url, transport_options=options) as conn:
        queue = conn.SimpleQueue("ts-sentinel-probe")
        try:
            queue.put({"n": n})
            message = queue.get(timeout=5)
            message.ack()
            return message.payload
        finally:
            queue.close()
