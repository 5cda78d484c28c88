"""`make run`'s supervisor (deploy/supervise.py): restarts, clean stops, and riding out Redis."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from tests.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
SUPERVISE = [sys.executable, str(ROOT / "deploy" / "supervise.py")]


def _wait_for(condition: Callable[[], object], timeout: float, what: str) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"not within {timeout:.0f} s: {what}")


def _supervise(tmp_path: Path, procfile: str, *args: str, env: dict | None = None):
    (tmp_path / "Procfile").write_text(procfile)
    log = (tmp_path / "supervise.log").open("wb")
    process = subprocess.Popen(  # noqa: S603
        [*SUPERVISE, "-f", str(tmp_path / "Procfile"), *args],
        cwd=ROOT,
        env=env or os.environ.copy(),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    return process, tmp_path / "supervise.log"


def test_a_process_that_exits_is_restarted_with_a_back_off_and_sigterm_stops_all(tmp_path):
    procfile = (
        "crasher: sh -c 'exit 3'\n"
        # A stand-in for Celery's warm shutdown: it needs a moment after SIGTERM, and says so.
        'steady: python -c "import signal, sys, time; signal.signal(signal.SIGTERM, lambda *a: '
        "(time.sleep(1), print('warm shutdown done', flush=True), sys.exit(0))); "
        "print('ready', flush=True); time.sleep(600)\"\n"
    )
    process, log = _supervise(tmp_path, procfile, "--grace", "10")
    try:
        _wait_for(lambda: log.read_text().count("crasher.1 exited") >= 3, 30, "three exits")
        _wait_for(lambda: "ready" in log.read_text(), 20, "the steady process")
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    output = log.read_text()
    delays = [
        int(d) for d in re.findall(r"crasher\.1 exited with code 3 .*restarting in (\d+) s", output)
    ]
    assert delays[:3] == [1, 2, 4], output  # doubling
    assert "warm shutdown done" in output  # SIGTERM once, and the time to act on it
    assert "all processes stopped" in output
    assert "still running: killed" not in output


def test_ctrl_c_in_a_terminal_stops_everything_and_make_exits_0(tmp_path):
    """Ctrl-C reaches the whole foreground process group, make included: the supervisor takes
    the terminal's foreground so make sees only its recipe's exit status."""
    if not shutil.which("script") or not shutil.which("make"):
        pytest.fail("needs script(1) (util-linux) and make")
    (tmp_path / "Procfile").write_text("sleeper: sleep 600\n")
    (tmp_path / "Makefile").write_text(
        f"run:\n\t{sys.executable} {ROOT / 'deploy' / 'supervise.py'} -f {tmp_path / 'Procfile'}\n"
    )
    # script(1) gives make a terminal of its own; \x03 typed there is the terminal's Ctrl-C.
    session = subprocess.Popen(  # noqa: S603
        [
            shutil.which("script"),
            "-qefc",
            f"make -C {tmp_path} run; echo make-exit=$?",
            "/dev/null",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    time.sleep(3)  # no output to wait on before sleeper starts: the supervisor's own line
    session.stdin.write(b"\x03")
    session.stdin.flush()
    output, _ = session.communicate(timeout=60)
    text = output.decode(errors="replace")
    assert "make-exit=0" in text, text
    assert "Interrupt" not in text and "Error" not in text, text


# --- riding out Redis -------------------------------------------------------------------------


class PrivateRedis:
    """A redis-server of this test's own on a free loopback port, stopped and started at will."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.folder = folder
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.folder),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        _wait_for(self.answers, 10, "redis-server to answer")

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@pytest.mark.slow
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)  # web and worker read this test's committed rows
def test_web_worker_and_beat_ride_out_a_redis_outage(tmp_path, issuer, settings):
    from effects.webhooks import webhook_endpoint_create
    from issuers.models import WebhookDelivery
    from issuers.services import apikey_create
    from tests.workers.harness import process_env

    if not shutil.which("redis-server"):
        pytest.fail("needs redis-server (apt-get install -y redis-server)")
    redis = PrivateRedis(tmp_path)
    redis.start()
    port, receiver_port = free_port(), free_port()
    key = apikey_create(issuer=issuer, name="outage").plaintext
    endpoint = webhook_endpoint_create(
        issuer=issuer, url=f"http://127.0.0.1:{receiver_port}/hook"
    ).endpoint
    env = process_env(
        REDIS_URL=redis.url,  # cache and broker of web, worker and beat
        TRUSTSEAL_PORT=str(port),
        TRUSTSEAL_BEAT_SECONDS="3",
        PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
        # A folder of their own (beat's schedule file), with this run's secrets, so the worker
        # can decrypt the endpoint's signing secret.
        TRUSTSEAL_VAR_DIR=str(tmp_path / "var"),
        SECRET_KEY=settings.SECRET_KEY,
        FIELD_ENCRYPTION_KEYS=",".join(settings.FIELD_ENCRYPTION_KEYS),
        KEY_ENCRYPTION_KEYS=",".join(settings.KEY_ENCRYPTION_KEYS),
        BLIND_INDEX_KEY=settings.BLIND_INDEX_KEY,
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    )
    env.pop("TRUSTSEAL_TEST_SMTP_PORT", None)
    procfile = (ROOT / "Procfile.dev").read_text()
    process, log = _supervise(tmp_path, procfile, "web", "worker", "beat", env=env)

    def ask_for_a_delivery() -> None:
        with contextlib.suppress(requests.RequestException):
            requests.post(
                f"http://127.0.0.1:{port}/api/v1/webhooks/{endpoint.pk}/test",
                headers={"Authorization": f"Bearer {key}"},
                timeout=5,
            )

    def delivering(server: SlowReceiver, timeout: float, what: str) -> float:
        """Ask the web for a test delivery every 3 s until one reaches the receiver."""
        before, asked, began = len(server.received), 0.0, time.monotonic()
        deadline = began + timeout
        while time.monotonic() < deadline:
            if time.monotonic() - asked > 3:
                asked = time.monotonic()
                ask_for_a_delivery()
            if len(server.received) > before:
                return time.monotonic() - began
            time.sleep(0.2)
        raise AssertionError(f"not within {timeout:.0f} s: {what}\n{log.read_text()}")

    try:
        with SlowReceiver(receiver_port) as server:
            delivering(server, 120, "a webhook through web, broker and worker")
            # Redis goes while the worker holds messages: one being delivered (the receiver
            # takes 2 s to answer), others prefetched. That is what made it exit before.
            started = server.started
            for _ in range(4):
                ask_for_a_delivery()
            _wait_for(lambda: server.started > started, 30, "a delivery in progress")
            redis.stop()
            time.sleep(20)  # the outage; nothing is asserted during it but the web answering
            health = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=10)
            assert health.status_code in (200, 503), health.text
            redis.start()
            mark = len(log.read_text())
            took = delivering(server, 60, "a webhook delivered after Redis returned")
            _wait_for(
                lambda: re.search(r"beat job \w+ ran", log.read_text()[mark:]),
                60,
                "a beat job run after Redis returned",
            )
            print(f"\ndelivering again {took:.1f} s after Redis returned")
    finally:
        process.send_signal(signal.SIGTERM)
        status = process.wait(timeout=120)
        redis.stop()
    output = log.read_text()
    assert status == 0, output
    assert "AttributeError" not in output, output
    assert "worker.1 exited" not in output, output  # rode it out, no restart needed
    assert WebhookDelivery.objects.filter(endpoint=endpoint, state="delivered").exists()


class SlowReceiver:
    """A webhook receiver that takes 2 s to answer, so a worker is caught holding a delivery."""

    def __init__(self, port: int) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.started += 1
                time.sleep(2)
                self.send_response(200)
                self.end_headers()
                receiver.received.append(self.headers["Trustseal-Delivery-Id"])

            def log_message(self, *args) -> None:
                pass

        self.started = 0
        self.received: list[str] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> SlowReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
