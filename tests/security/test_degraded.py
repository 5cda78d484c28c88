"""Degraded services: Redis or PostgreSQL goes away and comes back.

The shared services are never stopped (others use them): the app reaches them through a small
TCP relay owned by the test, and "stopping the service" closes the relay and every connection
through it; starting the relay again is the service coming back. Without a relay, a closed port
plays the dead Redis, which needs no service at all.

- Redis down: the seal image, the verification page and its JSON answer correctly from the
  database (a change made during the outage included), the API keeps working; once Redis is
  back, nothing stale is served.
- PostgreSQL down (a live server in a subprocess): the seal image comes from the cache where it
  has one, everything else is 503 problem+json with no traceback; it recovers by itself.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings

from issuers.services import apikey_create
from seals.services import seal_revoke
from tests.api_support import Api
from tests.factories import MemberFactory, award

ROOT = Path(__file__).resolve().parents[2]
# This area's port range (8190-8199).
DEAD_PORT = 8199
REDIS_RELAY_PORT = 8191
PG_RELAY_PORT = 8192
SERVER_PORT = 8193
SVG_WORD = {"active": b">valid<", "revoked": b">revoked<"}


class Relay:
    """A TCP relay ``127.0.0.1:port`` → ``target`` that can be cut and restored."""

    def __init__(self, port: int, target: tuple[str, int]) -> None:
        self.port, self.target = port, target
        self._sockets: list[socket.socket] = []
        self._listener: socket.socket | None = None

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        if self._listener is not None:
            with contextlib.suppress(OSError):  # shutdown wakes the thread blocked in accept
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
            self._listener = None
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        self._sockets.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=2)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            if self._listener is not listener:  # cut while connecting
                client.close()
                upstream.close()
                return
            self._sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


def _redis_cache(port: int) -> dict:
    db = urlsplit(settings.REDIS_URL or "redis://127.0.0.1:6379/0").path.strip("/") or "0"
    return {
        "default": {
            # The production backend, tracked copies included: an outage must drop them too.
            "BACKEND": "fastpath.cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/{db}",
            "KEY_PREFIX": "ts-degraded",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }


def _public_and_api(client, api: Api, seal) -> dict[str, object]:
    sid = seal.public_id
    return {
        "svg": client.get(f"/s/{sid}.svg"),
        "png": client.get(f"/s/{sid}.png"),
        "page": client.get(f"/verify/{sid}"),
        "json": client.get(f"/verify/{sid}.json"),
        "api": api.get(f"/seals/{sid}"),
    }


def _assert_all_answer(answers: dict[str, object], status: str) -> None:
    for kind, answer in answers.items():
        assert answer.status_code == 200, (kind, answer.status_code, answer.content[:200])
    assert answers["json"].json()["status"] == status
    assert answers["api"].json()["status"] == status
    assert SVG_WORD[status] in answers["svg"].content.lower()


@pytest.mark.django_db
def test_with_redis_unreachable_from_the_start_everything_answers_from_the_database(client):
    seal = award(MemberFactory())
    api = Api(seal.issuer)
    with override_settings(CACHES=_redis_cache(DEAD_PORT)):
        _assert_all_answer(_public_and_api(client, api, seal), "active")
        seal_revoke(seal=seal, reason="fraud", actor="test")
        _assert_all_answer(_public_and_api(client, api, seal), "revoked")
        assert api.get("/members").status_code == 200


@pytest.mark.redis
@pytest.mark.django_db
def test_redis_going_away_and_coming_back_never_serves_a_stale_seal(
    client, django_capture_on_commit_callbacks
):
    target = urlsplit(settings.REDIS_URL)
    relay = Relay(REDIS_RELAY_PORT, (target.hostname, target.port or 6379))
    relay.start()
    try:
        with override_settings(CACHES=_redis_cache(REDIS_RELAY_PORT)):
            from django.core.cache import cache

            cache.clear()
            seal = award(MemberFactory())
            api = Api(seal.issuer)
            _assert_all_answer(_public_and_api(client, api, seal), "active")  # now cached

            relay.stop()
            with django_capture_on_commit_callbacks(execute=True):
                seal_revoke(seal=seal, reason="fraud", actor="test")  # its invalidation fails
            _assert_all_answer(_public_and_api(client, api, seal), "revoked")

            relay.start()
            _assert_all_answer(_public_and_api(client, api, seal), "revoked")
            cache.clear()
    finally:
        relay.stop()


# --- PostgreSQL ---------------------------------------------------------------------------


def _get(path: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(f"http://127.0.0.1:{SERVER_PORT}{path}", headers=headers)
    try:
        # Our own test server on a fixed local port.
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def _wait_for_server(process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 120  # a bound: Django starts in seconds, later under load
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stdout.read() if process.stdout else ""
        try:
            socket.create_connection(("127.0.0.1", SERVER_PORT), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("the server did not start")


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_with_postgres_down_the_cached_image_still_answers_and_the_rest_is_503(figures):
    db = settings.DATABASES["default"]
    seal = award(MemberFactory())
    key = apikey_create(issuer=seal.issuer, name="degraded").plaintext
    relay = Relay(PG_RELAY_PORT, (db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432)))
    relay.start()
    environment = {
        **os.environ,
        "DATABASE_URL": (
            f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@127.0.0.1:{PG_RELAY_PORT}/"
            f"{connection.settings_dict['NAME']}"
        ),
        "REDIS_URL": settings.REDIS_URL,
        "CACHE_KEY_PREFIX": "ts-degraded-pg",
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DEBUG": "false",
    }
    server = subprocess.Popen(  # noqa: S603 - our interpreter, our manage.py, fixed arguments
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{SERVER_PORT}", "--noreload"],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    sid, cold = seal.public_id, award(MemberFactory(issuer=seal.issuer)).public_id
    auth = {"Authorization": f"Bearer {key}"}
    try:
        _wait_for_server(server)
        status, _, image = _get(f"/s/{sid}.svg")
        assert status == 200 and SVG_WORD["active"] in image.lower()
        assert _get(f"/verify/{sid}")[0] == 200
        assert _get("/api/v1/members", **auth)[0] == 200

        relay.stop()
        status, _, cached = _get(f"/s/{sid}.svg")
        assert (status, cached) == (200, image)  # from the cache, no database needed
        assert _get(f"/verify/{sid}")[0] == 200  # its cached snapshot serves the page too
        # A seal nobody has looked at has no cached snapshot: its answers need the database.
        # Its image is the neutral "status unknown" seal (never a broken image, never valid),
        # its page says "status unknown", its JSON is the 503 problem with verdict "unknown".
        status, headers, unknown = _get(f"/s/{cold}.svg")
        assert (status, headers["Content-Type"]) == (503, "image/svg+xml")
        assert headers["Cache-Control"] == "no-store" and b"Status unknown" in unknown
        assert SVG_WORD["active"] not in unknown.lower()
        status, headers, page = _get(f"/verify/{cold}")
        assert status == 503 and b"Status unknown" in page and b"Traceback" not in page
        down = {
            path: _get(path, **auth)
            for path in (
                f"/verify/{cold}.json",
                "/api/v1/members",
                "/api/v1/issuer",
                f"/issuers/{seal.issuer.slug}",
            )
        }
        for path, (status, headers, body) in down.items():
            assert status == 503, (path, status, body[:300])
            assert headers["Content-Type"] == "application/problem+json", path
            assert headers["Retry-After"]
            assert b"Traceback" not in body and b"OperationalError" not in body
            assert json.loads(body)["status"] == 503
        assert json.loads(down[f"/verify/{cold}.json"][2])["verdict"]["verdict"] == "unknown"
        assert _get("/healthz")[0] == 503

        relay.start()
        assert _get(f"/verify/{sid}")[0] == 200  # recovered by itself
        assert _get("/api/v1/members", **auth)[0] == 200
        figures("degraded postgres", answered_from_cache=1, problem_503=len(down))
    finally:
        relay.stop()
        server.terminate()
        server.wait(timeout=10)
