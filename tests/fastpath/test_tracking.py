"""Process-local snapshot copies kept true by Redis tracking (fastpath/tracking.py).

"The origin always answers the truth now" (DESIGN §1.1): a change made through the
services on one web node is visible on the very next request to any other node, although a
warm hit there makes no Redis round trip. A second node is simulated in this process by a
second, independent cache client with its own tracking connection, copies and image LRU.
"""

from __future__ import annotations

import contextlib
import time
from datetime import timedelta
from types import SimpleNamespace

import pytest
import redis
import time_machine
from django.conf import settings
from django.utils import timezone

from fastpath import tracking
from fastpath.cache import RedisCache
from seals import public_views, snapshot
from seals.render import images
from seals.services import seal_revoke
from tests.factories import MemberFactory, award
from tests.seals.public_helpers import seal_in

pytestmark = [pytest.mark.django_db, pytest.mark.redis]


class Node:
    """Another web node: its own cache client, tracking connection and in-process caches."""

    def __init__(self) -> None:
        self.cache = RedisCache(settings.REDIS_URL, dict(settings.CACHES["default"]))
        self.cache.mirrors = {}
        self.bytes = images.LRU(64)
        self.round_trips = 0
        get_many = self.cache.get_many

        def counted(*args, **kwargs):
            self.round_trips += 1
            return get_many(*args, **kwargs)

        self.cache.get_many = counted

    @property
    def mirror(self) -> tracking.KeyMirror:
        return self.cache.local_copies("pub:gen:").mirror

    @contextlib.contextmanager
    def serving(self, monkeypatch):
        with monkeypatch.context() as patch:
            patch.setattr(snapshot, "cache", self.cache)
            patch.setattr(public_views, "cache", self.cache)
            patch.setattr(images, "cache", self.cache)
            patch.setattr(images, "local_bytes", self.bytes)
            yield


@pytest.fixture
def node():
    other = Node()
    yield other
    for mirror in other.cache.mirrors.values():
        mirror.close()


def _status(client, seal) -> str:
    response = client.get(f"/verify/{seal.public_id}.json")
    assert response.status_code == 200
    return response.json()["status"]


def _warm(node, monkeypatch, client, seal) -> None:
    """Serve the seal on ``node`` until its copy is trusted (the first PONG has arrived)."""
    with node.serving(monkeypatch):
        deadline = time.monotonic() + 30  # a bound for a loaded box; healthy runs take ms
        while True:
            before = node.round_trips
            assert _status(client, seal) == "active"
            if node.round_trips == before:
                return
            assert time.monotonic() < deadline, "the copy never became trusted"
            time.sleep(0.01)


def test_a_warm_hit_on_a_node_makes_no_redis_round_trip(client, node, monkeypatch):
    seal = seal_in("active")
    _warm(node, monkeypatch, client, seal)
    with node.serving(monkeypatch):
        before = node.round_trips
        for suffix in (".png", ".svg"):
            assert client.get(f"/s/{seal.public_id}{suffix}").status_code == 200
            assert client.get(f"/s/{seal.public_id}{suffix}").status_code == 200
    assert node.round_trips == before


def test_a_revocation_is_visible_on_the_next_request_to_another_node(
    client, node, monkeypatch, django_capture_on_commit_callbacks
):
    seal = seal_in("active")
    _warm(node, monkeypatch, client, seal)
    with node.serving(monkeypatch):
        etag = client.get(f"/s/{seal.public_id}.png")["ETag"]
    assert len(node.mirror) == 1

    # Through the service layer, on this node (Django's default cache client).
    with django_capture_on_commit_callbacks(execute=True):
        seal_revoke(seal=seal, reason="fraud", actor="test")

    with node.serving(monkeypatch):
        assert _status(client, seal) == "revoked"
        response = client.get(f"/s/{seal.public_id}.png", HTTP_IF_NONE_MATCH=etag)
        assert response.status_code == 200
        assert response["ETag"] != etag


def test_a_change_to_a_member_reaches_the_other_nodes_copies(
    client, node, monkeypatch, django_capture_on_commit_callbacks
):
    from seals.registry import member_update

    seal = seal_in("active")
    _warm(node, monkeypatch, client, seal)
    with django_capture_on_commit_callbacks(execute=True):
        member_update(member=seal.member, actor="test", display_name="Renamed Trading Ltd")
    with node.serving(monkeypatch):
        body = client.get(f"/verify/{seal.public_id}.json").json()
    assert body["member"]["display_name"] == "Renamed Trading Ltd"


def test_a_scheduled_expiry_needs_no_invalidation(client, node, monkeypatch):
    seal = award(MemberFactory(), days=1)
    _warm(node, monkeypatch, client, seal)
    with node.serving(monkeypatch), time_machine.travel(timezone.now() + timedelta(days=2)):
        assert _status(client, seal) == "expired"


def test_a_flush_by_another_client_drops_every_copy(client, node, monkeypatch):
    seal = seal_in("active")
    _warm(node, monkeypatch, client, seal)
    from django.core.cache import cache

    assert len(node.mirror) == 1
    cache.clear()  # another client's FLUSHDB: Redis pushes a null invalidation
    cache.settle()
    assert node.mirror.get("any key") is None  # a reader drains the socket before trusting
    assert len(node.mirror) == 0


def test_a_node_whose_tracking_connection_died_reads_redis_again(
    client, node, monkeypatch, django_capture_on_commit_callbacks
):
    seal = seal_in("active")
    _warm(node, monkeypatch, client, seal)
    killer = redis.Redis.from_url(settings.REDIS_URL)
    assert killer.client_kill_filter(_id=node.mirror.client_id) == 1
    with django_capture_on_commit_callbacks(execute=True):
        seal_revoke(seal=seal, reason="fraud", actor="test")
    with node.serving(monkeypatch):
        assert _status(client, seal) == "revoked"


def test_a_silent_tracking_connection_stops_being_trusted(client, node, monkeypatch):
    seal = seal_in("active")
    _warm(node, monkeypatch, client, seal)
    # As if twice TRUST_SECONDS had passed since the last answer to a PING (a connection that
    # died without a reset), on the clock the tracking code reads.
    later = time.monotonic() + 2 * tracking.TRUST_SECONDS
    monkeypatch.setattr(tracking, "time", SimpleNamespace(monotonic=lambda: later))
    with node.serving(monkeypatch):
        before = node.round_trips
        assert _status(client, seal) == "active"
    assert node.round_trips == before + 1


def test_a_read_that_raced_a_write_is_not_kept(node):
    copies = node.cache.local_copies("pub:gen:")
    mirror = copies.mirror
    mark = copies.reserve("pub:gen:raced")
    assert mark is not None
    writer = RedisCache(settings.REDIS_URL, dict(settings.CACHES["default"]))
    writer.mirrors = {}
    writer.set("pub:gen:raced", "new", 60)
    writer.settle()
    assert copies.fill("pub:gen:raced", mark, "read before the write") is False
    assert copies.get("pub:gen:raced") is None
    # Without a write in between, the value is kept and served.
    mark = copies.reserve("pub:gen:quiet")
    assert copies.fill("pub:gen:quiet", mark, "value") is True
    deadline = time.monotonic() + 30  # a bound for a loaded box; healthy runs take ms
    while copies.get("pub:gen:quiet") is None:  # trusted once the first PONG is in
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert len(mirror) == 1


def test_the_resp3_reader_handles_split_frames():
    frame = b">2\r\n$10\r\ninvalidate\r\n*2\r\n$5\r\nts:ab\r\n$2\r\ncd\r\n"
    for cut in range(1, len(frame)):
        with pytest.raises(tracking.Incomplete):
            tracking.parse_resp(frame[:cut], 0)
    parsed = tracking.parse_resp(frame, 0)
    assert parsed == (("push", [b"invalidate", [b"ts:ab", b"cd"]]), len(frame))
    assert tracking.parse_resp(b">2\r\n$10\r\ninvalidate\r\n_\r\n", 0)[0] == (
        "push",
        [b"invalidate", None],
    )


def test_listing_cache_replicas_keeps_tracking_on_and_reads_tracked_keys_from_the_primary():
    # Two servers, the second a stand-in replica: tracked keys must come from the first.
    replica = settings.REDIS_URL.rsplit("/", 1)[0] + "/15"
    cache = RedisCache(f"{settings.REDIS_URL},{replica}", dict(settings.CACHES["default"]))
    cache.mirrors = {}
    copies = cache.local_copies("pub:gen:")
    assert copies is not None
    chosen = []
    client = cache._cache
    index = client._get_connection_pool_index

    def spy(write):
        chosen.append(index(write))
        return chosen[-1]

    client._get_connection_pool_index = spy
    cache.get_many(["pub:gen:abc", "pub:snap:abc"])
    cache.get("pub:gen:abc")
    assert chosen == [0, 0]
    chosen.clear()
    cache.get("something-else")  # other reads may still go to the replica
    assert chosen == [1]
    copies.mirror.close()


def test_tracking_refuses_a_server_that_is_not_the_master(monkeypatch):
    mirror = tracking.KeyMirror(settings.REDIS_URL, "ts:1:pub:gen:")
    monkeypatch.setattr(tracking, "_is_master", lambda reply: False)
    assert mirror.reserve("ts:1:pub:gen:x") is None  # not connected: no copy is kept
    assert mirror._sock is None
