"""A Redis outage, for real: seal actions answer 2xx, and their webhooks go out once it is back.

A private ``redis-server`` on a free loopback port (never the shared one) is the broker and the
cache of a real web server (``manage.py runserver``), a real Celery worker and a real beat. The
test stops it, performs seal actions through the API, starts it again on the same port (empty:
whatever the broker held is gone too), and waits for the deliveries to reach a local receiver.
Promise (docs/operations.md, "Delivery semantics"): no request fails or hangs, nothing is lost,
and everything due goes out within 60 s of the broker's return.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from effects.webhooks import webhook_endpoint_create
from issuers.models import WebhookDelivery
from issuers.services import apikey_create
from outbox import core as outbox
from tests.factories import IssuerFactory, MemberFactory, award
from tests.workers.harness import (
    HTTP_PORT,
    ROOT,
    HttpReceiver,
    free_port,
    process_env,
    start_beat,
    start_worker,
    stop,
)

pytestmark = [pytest.mark.slow, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

ACTIONS = 10  # seal actions performed while the broker is down
# Longer than the relay interval (10 s), so beat's relay messages fail to publish meanwhile too.
OUTAGE = 15
BACK_WITHIN = 60  # seconds: everything due goes out this soon after the broker returns
SLOWEST_ANSWER = 3  # seconds: no request may wait on the absent broker longer than this


def wait_for(condition: Callable[[], bool], *, within: float, what: str) -> float:
    """Poll ``condition`` until it holds; returns the seconds it took, fails past ``within``."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > within:
            raise AssertionError(f"{what}: not within {within} s")
        time.sleep(0.2)
    return time.monotonic() - started


class PrivateRedis:
    """redis-server on its own loopback port, without persistence, stopped and started at will."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.folder = folder
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        command = [shutil.which("redis-server") or "redis-server", "--port", str(self.port)]
        command += ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        command += ["--dir", str(self.folder)]
        with (self.folder / "redis.log").open("ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
        wait_for(self.answers, within=10, what="redis-server start")

    def answers(self) -> bool:
        import redis

        try:
            return bool(redis.Redis(port=self.port, socket_connect_timeout=0.2).ping())
        except redis.RedisError:
            return False

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)
            self.process = None

    def url(self, db: int) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"


def start_web(log: Path, port: int, **extra: str) -> subprocess.Popen:
    command = [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"]
    with log.open("ab") as out:
        return subprocess.Popen(  # noqa: S603
            command, cwd=ROOT, env=process_env(**extra), stdout=out, stderr=subprocess.STDOUT
        )


def test_seal_actions_during_a_redis_outage_answer_2xx_and_their_webhooks_arrive_after(
    run_dir, monkeypatch, capsys
):
    if not shutil.which("redis-server"):
        pytest.fail("needs redis-server (apt-get install -y redis-server)")

    def no_broker_here(*args, **kwargs):
        raise ConnectionError("the test process has no broker: the relay hands these off")

    # What this process owes (the awards' pre-renders) goes out through the workers' relay.
    monkeypatch.setattr(outbox, "enqueue", no_broker_here)
    redis_server = PrivateRedis(run_dir)
    redis_server.start()
    web_port = free_port()
    env = {
        "CELERY_BROKER_URL": redis_server.url(0),
        # The cache too: the whole Redis goes away, as it does in production.
        "REDIS_URL": redis_server.url(1),
        "CACHE_KEY_PREFIX": f"ts-outage-{web_port}",
    }
    issuer = IssuerFactory()
    key = apikey_create(issuer=issuer, name="outage").plaintext
    seals = [award(MemberFactory(issuer=issuer)) for _ in range(ACTIONS + 1)]
    webhook_endpoint_create(
        issuer=issuer,
        url=f"http://127.0.0.1:{HTTP_PORT}/hooks",
        event_types=["seal.suspended", "seal.revoked"],
    )
    processes = [
        start_web(run_dir / "web.log", web_port, **env),
        start_worker(run_dir / "worker.log", "outage", **env),
        start_beat(run_dir / "beat.log", run_dir / "schedule", **env),
    ]
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {key}"
    api = f"http://127.0.0.1:{web_port}/api/v1"

    def act(seal, action: str) -> tuple[int, float]:
        started = time.monotonic()
        response = session.post(f"{api}/seals/{seal.public_id}/{action}", json={"reason": "x"})
        return response.status_code, time.monotonic() - started

    def web_up() -> bool:
        try:
            return session.get(f"{api}/issuer", timeout=2).status_code == 200
        except requests.ConnectionError:
            return False

    try:
        with HttpReceiver() as receiver:
            wait_for(web_up, within=60, what="the web server")
            # With the broker up, a delivery arrives: the whole path works before the outage.
            assert act(seals[0], "suspend")[0] == 200
            wait_for(lambda: len(receiver.received) == 1, within=60, what="the first delivery")

            redis_server.stop()
            down_at = time.monotonic()
            answers = [act(seal, "revoke") for seal in seals[1:]]
            owed = WebhookDelivery.objects.filter(event_type="seal.revoked")
            assert owed.count() == ACTIONS
            assert set(owed.values_list("state", flat=True)) == {"pending"}
            time.sleep(max(0.0, OUTAGE - (time.monotonic() - down_at)))

            redis_server.start()
            took = wait_for(
                lambda: len({d for _, d in receiver.received}) == ACTIONS + 1,
                within=BACK_WITHIN,
                what="every delivery owed during the outage",
            )
            wait_for(
                lambda: not WebhookDelivery.objects.exclude(state="delivered").exists(),
                within=10,
                what="the deliveries marked delivered",
            )
            arrivals = list(receiver.received)
    finally:
        for process in processes:
            stop(process)
        redis_server.stop()

    slowest = max(seconds for _, seconds in answers)
    codes = sorted({code for code, _ in answers})
    with capsys.disabled():
        print(f"\nredis down {OUTAGE} s: {ACTIONS} revocations answered {codes}")
        print(f"slowest answer while redis was down {slowest:.3f} s")
        print(f"all {ACTIONS} webhooks received {took:.1f} s after redis came back")
    assert [code for code, _ in answers] == [200] * ACTIONS
    assert slowest < SLOWEST_ANSWER
    revoked = {seal for (seal, kind), _ in arrivals if kind == "seal.revoked"}
    assert revoked == {seal.public_id for seal in seals[1:]}
