"""The edge cache (deploy/nginx/seal-cache.conf) on the real nginx, in front of a stub origin.

DESIGN §1.1: the seal never lies. The edge may keep an answer only as long as the origin's
``Cache-Control`` allows (max-age, then stale-while-revalidate / stale-if-error), never longer:
with the origin down past that, a visitor gets an error, not the old image.

nginx runs from the config ``make serve`` generates (deploy/nginx/local.py) with its upstream
pointed at a thread on loopback that answers what each test tells it to. nginx's clock has a
resolution of one second and an entry stays fresh *through* its last second
(``valid_sec < now`` in ngx_http_file_cache_read), so the waits below add one second to every
window they step past.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.deploy import local, running_edge
from tests.ports import free_port

pytestmark = [pytest.mark.nginx, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent.parent


@dataclass
class Origin:
    """What the stub origin answers, and what it was asked."""

    body: bytes = b"image v1"
    etag: str = '"v1"'
    cache_control: str = "public, max-age=60"
    requests: list[dict[str, str]] = field(default_factory=list)
    port: int = 0
    server: ThreadingHTTPServer | None = None
    connections: list[socket.socket] = field(default_factory=list)

    def start(self) -> None:
        origin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                origin.connections.append(self.connection)

            def do_GET(self) -> None:
                origin.requests.append({k.lower(): v for k, v in self.headers.items()})
                fresh = self.headers.get("If-None-Match") == origin.etag
                self.send_response(304 if fresh else 200)
                self.send_header("ETag", origin.etag)
                self.send_header("Cache-Control", origin.cache_control)
                self.send_header("Content-Type", "image/png")
                if fresh:
                    self.end_headers()
                    return
                self.send_header("Content-Length", str(len(origin.body)))
                self.end_headers()
                self.wfile.write(origin.body)

            def do_POST(self) -> None:
                received = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                origin.requests.append({"path": self.path, "length": str(len(received))})
                self.send_response(201)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        """The origin is down: its port refuses connections, and the edge's kept-alive ones
        are cut (their handler threads would otherwise go on answering)."""
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
        for connection in self.connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


@pytest.fixture
def origin() -> Iterator[Origin]:
    stub = Origin()
    stub.start()
    yield stub
    stub.stop()


@pytest.fixture
def edge(origin: Origin, tmp_path: Path) -> Iterator[str]:
    """nginx with the edge config ``make serve`` runs, in front of the stub origin."""
    with running_edge(tmp_path / "edge", upstream=origin.port) as url:
        yield url


@dataclass
class Answer:
    status: int
    body: bytes
    cache: str


def get(url: str, path: str = "/s/AAAAAAAAAAAAAAAAAAAAAA.png") -> Answer:
    try:
        with urllib.request.urlopen(url + path, timeout=10) as response:  # noqa: S310 - loopback
            return Answer(response.status, response.read(), response.headers.get("X-Cache", ""))
    except urllib.error.HTTPError as error:
        return Answer(error.code, error.read(), error.headers.get("X-Cache", ""))


def past(seconds: float) -> None:
    """Sleep until nginx's one-second clock is surely past a window of ``seconds``."""
    time.sleep(seconds + 1.1)


def test_within_max_age_the_edge_answers_from_its_cache(edge, origin):
    origin.cache_control = "public, max-age=30, stale-while-revalidate=0, stale-if-error=0"
    first, second = get(edge), get(edge)
    assert (first.cache, second.cache) == ("MISS", "HIT")
    assert second.body == b"image v1"
    assert len(origin.requests) == 1


def test_without_stale_allowance_the_first_request_past_max_age_goes_to_the_origin(edge, origin):
    origin.cache_control = "public, max-age=1, stale-while-revalidate=0, stale-if-error=0"
    get(edge)
    past(1)
    # The new answer is kept long enough to be seen kept, however late the next request runs.
    origin.cache_control = "public, max-age=30, stale-while-revalidate=0, stale-if-error=0"
    origin.body, origin.etag = b"image v2", '"v2"'
    after = get(edge)
    # Not STALE: the old image is never the answer once max-age has run out.
    assert after.cache in {"EXPIRED", "MISS"}
    assert after.body == b"image v2"
    assert len(origin.requests) == 2
    assert get(edge) == Answer(200, b"image v2", "HIT")


def test_without_stale_allowance_a_down_origin_is_an_error_past_max_age(edge, origin):
    origin.cache_control = "public, max-age=1, stale-while-revalidate=0, stale-if-error=0"
    assert get(edge).body == b"image v1"
    origin.stop()
    past(1)
    answer = get(edge)
    assert answer.status >= 500
    assert b"image v1" not in answer.body


def test_stale_if_error_is_honoured_and_ends_when_the_origin_says(edge, origin):
    origin.cache_control = "public, max-age=1, stale-while-revalidate=0, stale-if-error=3"
    get(edge)
    origin.stop()
    past(1)
    during = get(edge)
    assert (during.status, during.body, during.cache) == (200, b"image v1", "STALE")
    past(3)
    answer = get(edge)
    assert answer.status >= 500
    assert b"image v1" not in answer.body


def test_stale_while_revalidate_serves_the_old_copy_once_while_it_refreshes(edge, origin):
    origin.cache_control = "public, max-age=1, stale-while-revalidate=10, stale-if-error=0"
    get(edge)
    past(1)
    # The refreshed answer stays fresh while it is awaited below, however loaded the box.
    origin.cache_control = "public, max-age=30, stale-while-revalidate=10, stale-if-error=0"
    origin.body, origin.etag = b"image v2", '"v2"'
    stale = get(edge)
    assert (stale.body, stale.cache) == (b"image v1", "STALE")
    # Until the background refresh is stored the old copy may still be the answer (UPDATING);
    # then the new one, from the cache, after exactly one request to the origin.
    deadline = time.monotonic() + 30
    while (answer := get(edge)).cache != "HIT" and time.monotonic() < deadline:
        assert (answer.body, answer.cache) in {(b"image v1", "UPDATING"), (b"image v1", "STALE")}
        time.sleep(0.05)
    assert answer == Answer(200, b"image v2", "HIT")
    assert len(origin.requests) == 2


def test_past_max_age_and_stale_while_revalidate_a_down_origin_is_an_error(edge, origin):
    origin.cache_control = "public, max-age=1, stale-while-revalidate=1, stale-if-error=0"
    get(edge)
    origin.stop()
    past(2)
    answer = get(edge)
    assert answer.status >= 500
    assert b"image v1" not in answer.body


def test_revalidation_sends_the_etag_and_a_304_refreshes_the_entry(edge, origin):
    origin.cache_control = "public, max-age=1, stale-while-revalidate=0, stale-if-error=0"
    get(edge)
    past(1)
    origin.cache_control = "public, max-age=30, stale-while-revalidate=0, stale-if-error=0"
    revalidated = get(edge)
    assert origin.requests[-1].get("if-none-match") == '"v1"'
    assert (revalidated.status, revalidated.body, revalidated.cache) == (
        200,
        b"image v1",
        "REVALIDATED",
    )
    # The 304's max-age now governs the entry: fresh again, no further origin request.
    past(1)
    assert get(edge) == Answer(200, b"image v1", "HIT")
    assert len(origin.requests) == 2


def post(url: str, path: str, size: int) -> int:
    request = urllib.request.Request(url + path, data=b"x" * size, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_imports_take_the_50_mb_docs_api_promises_and_other_routes_stay_at_10(edge, origin):
    assert post(edge, "/api/v1/imports", 30 * 1024 * 1024) == 201
    assert origin.requests[-1] == {"path": "/api/v1/imports", "length": str(30 * 1024 * 1024)}
    assert post(edge, "/api/v1/imports", 51 * 1024 * 1024) == 413
    assert post(edge, "/api/v1/members", 11 * 1024 * 1024) == 413
    assert post(edge, "/console/imports/", 30 * 1024 * 1024) == 201  # the console's upload
    assert post(edge, "/console/members/new/", 11 * 1024 * 1024) == 413
    assert len(origin.requests) == 2


def test_the_compose_config_is_one_nginx_accepts(tmp_path):
    """deploy/nginx/nginx.conf with its container paths moved into a private prefix."""
    conf = (ROOT / "deploy" / "nginx" / "nginx.conf").read_text()
    for container, here in {
        "/etc/nginx/seal-cache.conf": str(ROOT / "deploy" / "nginx" / "seal-cache.conf"),
        "/etc/nginx/seal-referer.conf": str(ROOT / "deploy" / "nginx" / "seal-referer.conf"),
        "/var/cache/nginx/seals": str(tmp_path / "cache"),
        "server web:8000;": "server 127.0.0.1:9;",
        "listen 80;": f"listen 127.0.0.1:{free_port()};",
        "access_log /dev/stdout": f"access_log {tmp_path}/access.log",
    }.items():
        assert container in conf
        conf = conf.replace(container, here)
    conf = f"pid {tmp_path}/nginx.pid;\n" + conf
    (tmp_path / "temp").mkdir()
    conf = conf.replace("http {", f"http {{\n    client_body_temp_path {tmp_path}/temp;", 1)
    (tmp_path / "nginx.conf").write_text(conf)
    checked = subprocess.run(  # noqa: S603 - our nginx binary, our config
        [
            local.nginx_binary(),
            "-t",
            "-p",
            str(tmp_path),
            "-e",
            str(tmp_path / "error.log"),
            "-c",
            str(tmp_path / "nginx.conf"),
        ],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stderr


def test_an_entry_is_served_through_the_last_second_of_its_max_age(edge, origin):
    """Why the origin counts whole seconds (seals/public_views.py ``_seconds_until``): stored
    early in second S with max-age=1, the entry is still a hit late in second S+1.

    Both moments are checked, not assumed: on a loaded box a request can finish in a later
    second than it was aimed at, and then the attempt proves nothing, so it is made again, on a
    path of its own (an earlier attempt's entry must not answer it)."""
    origin.cache_control = "public, max-age=1, stale-while-revalidate=0, stale-if-error=0"
    for attempt in range(10):
        path = f"/s/{attempt:022d}.png"
        time.sleep(1.05 - time.time() % 1)  # early in a second
        second = int(time.time())
        get(edge, path)
        if int(time.time()) != second:
            continue
        time.sleep(max(0.0, second + 1.8 - time.time()))  # late in the next one
        asked = len(origin.requests)
        answer = get(edge, path)
        if int(time.time()) == second + 1:
            break
    else:
        pytest.fail("no attempt stored and read its entry within the seconds it aimed at")
    assert answer.cache == "HIT"
    assert len(origin.requests) == asked
