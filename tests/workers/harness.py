"""Real processes for the integration tests: a Celery worker, beats, an SMTP server, an HTTP
receiver, and the SIGKILL campaign that measures lost / duplicate / under-two-ids deliveries.

The worker runs ``celery -A tests.workers.celery_app worker`` (the project's app plus the
test-only fault points, tests/workers/faults.py) with the test settings, pointed at the test
run's database (``TRUSTSEAL_TEST_DB_NAME``) and broker (the same settings: file-system broker
under TRUSTSEAL_VAR_DIR, or Redis with REDIS_URL). The solo pool runs tasks in the worker's main
process, so a SIGKILL at a fault point takes the whole worker down, like a crashed host.
"""

from __future__ import annotations

import email
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from django.db import connection

from tests.ports import free_port

ROOT = Path(__file__).resolve().parents[2]


SMTP_PORT = free_port()
HTTP_PORT = free_port()
KILL_POINTS = ("before_claim", "after_claim", "after_send", "before_ack")
# Bounds, not expectations: the campaign waits for each kill and for the drain, and these only
# stop it when something is wrong. A worker takes ~2 s to start and die on a quiet box, several
# times that on a loaded one; the drain of 500 items ~30 s quiet.
KILL_DEADLINE = 180
DRAIN_DEADLINE = 600


# --- receivers ------------------------------------------------------------------------------


class SmtpRecorder:
    """aiosmtpd handler: records (notice id header, Message-ID) of every accepted message."""

    def __init__(self) -> None:
        self.received: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope) -> str:
        message = email.message_from_bytes(envelope.original_content or envelope.content)
        with self._lock:
            self.received.append((message["X-Trustseal-Notice"], message["Message-ID"]))
        return "250 Message accepted for delivery"


class SmtpServer:
    def __init__(self, port: int = SMTP_PORT) -> None:
        self.recorder = SmtpRecorder()
        self.controller = Controller(self.recorder, hostname="127.0.0.1", port=port)

    def __enter__(self) -> SmtpRecorder:
        self.controller.start()
        return self.recorder

    def __exit__(self, *exc) -> None:
        self.controller.stop()


class _HookHandler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        payload = json.loads(body)
        logical = (payload["data"].get("seal"), payload["type"])
        with self.server.lock:  # type: ignore[attr-defined]
            self.server.received.append(  # type: ignore[attr-defined]
                (logical, self.headers["Trustseal-Delivery-Id"])
            )
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


class HttpReceiver:
    """Records (logical event, delivery id) for every webhook POST it receives."""

    def __init__(self, port: int = HTTP_PORT) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", port), _HookHandler)
        self.server.received = []  # type: ignore[attr-defined]
        self.server.lock = threading.Lock()  # type: ignore[attr-defined]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def received(self) -> list:
        return self.server.received  # type: ignore[attr-defined]

    def __enter__(self) -> HttpReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


# --- processes ------------------------------------------------------------------------------


def process_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRUSTSEAL_KILL")}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.test",
        TRUSTSEAL_TEST_DB_NAME=str(connection.settings_dict["NAME"]),
        TRUSTSEAL_TEST_SMTP_PORT=str(SMTP_PORT),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def start_worker(log: Path, name: str, **extra: str) -> subprocess.Popen:
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "tests.workers.celery_app",
        "worker",
        "--pool",
        "solo",
        "--loglevel",
        "INFO",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "-n",
        f"{name}@%h",
    ]
    with log.open("ab") as out:
        return subprocess.Popen(  # noqa: S603
            command, cwd=ROOT, env=process_env(**extra), stdout=out, stderr=subprocess.STDOUT
        )


def start_beat(log: Path, schedule: Path, **extra: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "celery", "-A", "config", "beat", "--loglevel", "INFO"]
    command += ["-s", str(schedule)]
    with log.open("ab") as out:
        return subprocess.Popen(  # noqa: S603
            command, cwd=ROOT, env=process_env(**extra), stdout=out, stderr=subprocess.STDOUT
        )


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def purge_broker() -> None:
    from config.celery import app

    app.control.purge()


@pytest.fixture
def run_dir(settings):
    """Logs and kill records of the processes, under this checkout's var directory rather than
    pytest's shared temporary root (another run on the machine may prune that one), with the
    broker purged before and after."""
    path = Path(tempfile.mkdtemp(prefix="integration-", dir=settings.VAR_DIR))
    purge_broker()
    yield path
    purge_broker()
    shutil.rmtree(path, ignore_errors=True)


# --- the kill campaign ----------------------------------------------------------------------


@dataclass
class Campaign:
    """SIGKILL the worker at each fault point ``kills_per_point`` times, restarting it after each
    death, while ``reconcile`` (the outbox relay beat runs) runs in this process; then drain."""

    prefix: str  # "notice" or "webhook"
    tmp: Path
    reconcile: Callable[[], object]
    done: Callable[[], bool]
    lease_env: dict[str, str]
    kills_per_point: int = 5
    kills: list[tuple[str, str]] = field(default_factory=list)
    timings: tuple[float, float] = (0.0, 0.0)  # kill rounds, final drain (seconds)

    def _run_worker(self, name: str, timeout: float, **extra: str) -> bool:
        """Run one worker until it dies or the work is done; True if it was killed."""
        worker = start_worker(self.tmp / "worker.log", name, **self.lease_env, **extra)
        deadline = time.monotonic() + timeout
        next_reconcile = 0.0
        try:
            while time.monotonic() < deadline:
                if worker.poll() is not None:
                    return True
                if time.monotonic() >= next_reconcile:
                    self.reconcile()
                    next_reconcile = time.monotonic() + 1
                    if not extra and self.done():
                        return False
                time.sleep(0.05)
            return False
        finally:
            stop(worker)

    def _kill_at(self, point: str, name: str, log: Path) -> None:
        """Start workers until one is killed at ``point`` (its kill recorded in ``log``) or
        KILL_DEADLINE passes. A worker that started late is waited for; one that died before
        the point (or never reached it) is replaced, so each round ends with one kill."""
        recorded = len(_lines(log))
        deadline = time.monotonic() + KILL_DEADLINE
        attempt = 0
        while len(_lines(log)) == recorded and time.monotonic() < deadline:
            self._run_worker(
                f"{name}-{attempt}",
                timeout=deadline - time.monotonic(),
                TRUSTSEAL_KILL_POINT=f"{self.prefix}.{point}",
                TRUSTSEAL_KILL_AFTER=str(random.randint(1, 3)),
                TRUSTSEAL_KILL_LOG=str(log),
            )
            attempt += 1

    def run(self) -> None:
        log = self.tmp / f"{self.prefix}-kills.log"
        started = time.monotonic()
        plan = [p for _ in range(self.kills_per_point) for p in KILL_POINTS]
        for round_no, point in enumerate(plan):
            self._kill_at(point, f"{self.prefix}-{round_no}", log)
        killed_at = time.monotonic()
        self._run_worker(f"{self.prefix}-final", timeout=DRAIN_DEADLINE)
        self.timings = (killed_at - started, time.monotonic() - killed_at)
        self.kills = [(line.split()[0].split(".", 1)[1], line.split()[1]) for line in _lines(log)]


def _lines(log: Path) -> list[str]:
    """The kills recorded so far (each line is fsynced before the SIGKILL)."""
    if not log.exists():
        return []
    return [line for line in log.read_text().splitlines() if line.strip()]


@dataclass(frozen=True)
class PointReport:
    point: str
    kills: int
    lost: int
    duplicates: int
    under_two_ids: int


def measure(
    *,
    kills: Iterable[tuple[str, str]],
    expected: dict[str, str],
    arrivals: Iterable[tuple[str, str]],
) -> tuple[list[PointReport], PointReport]:
    """``expected`` maps each due item (notice id, delivery row) to the one id it must arrive
    under; ``arrivals`` are (item, id) pairs as received. Per kill point, the items in flight
    when the worker was killed; then the whole run."""
    copies = Counter(delivered_id for _, delivered_id in arrivals)
    ids_per_item: dict[str, set[str]] = defaultdict(set)
    for item, delivered_id in arrivals:
        ids_per_item[item].add(delivered_id)

    def report(point: str, items: set[str], kill_count: int) -> PointReport:
        return PointReport(
            point=point,
            kills=kill_count,
            lost=sum(1 for i in items if copies[expected[i]] == 0),
            duplicates=sum(copies[expected[i]] - 1 for i in items if copies[expected[i]] > 1),
            under_two_ids=sum(1 for i in items if len(ids_per_item[i]) > 1),
        )

    kills = list(kills)
    per_point = []
    for point in KILL_POINTS:
        refs = {ref for p, ref in kills if p == point and ref in expected}
        per_point.append(report(point, refs, sum(1 for p, _ in kills if p == point)))
    return per_point, report("all", set(expected), len(kills))


def print_reports(title: str, per_point: list[PointReport], total: PointReport) -> None:
    print(f"\n{title}")
    print(f"{'kill point':<14}{'kills':>6}{'lost':>6}{'duplicates':>12}{'under two ids':>15}")
    for r in [*per_point, total]:
        print(f"{r.point:<14}{r.kills:>6}{r.lost:>6}{r.duplicates:>12}{r.under_two_ids:>15}")
