"""Real-browser fixtures: Debian's Chromium through Playwright, a live Django server, and a
local "member site" on other host names (Chromium maps them to 127.0.0.1)."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.conftest import CHROMIUM

# Playwright's sync API runs an event loop in the test thread; Django refuses ORM calls from
# a thread with a running loop unless told this is safe. It is: the loop only drives the
# browser, and every query here is a plain synchronous one.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "browser"
AXE = (Path(__file__).parent / "assets" / "axe.min.js").read_text()
MEMBER_HOST, FOREIGN_HOST = "shop.example", "foreign.example"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # Without these Chromium reaches for the network at start, which is closed here.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _host_rules(port: int) -> str:
    # The member's and the copycat's sites are at the default port of their host names, as real
    # sites are: the seal compares the Referer's host *and* port with the member's domains, and
    # a domain entry means its default port. Chromium sends both names to the local site's port.
    rules = (f"MAP {host} 127.0.0.1:{port}" for host in (MEMBER_HOST, FOREIGN_HOST))
    return "--host-resolver-rules=" + ", ".join(rules)


@pytest.fixture(scope="session")
def chromium(member_site):
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"needs browser: apt-get install -y chromium ({CHROMIUM})")
    from playwright.sync_api import sync_playwright

    args = [*FLAGS, _host_rules(member_site.port)]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=args, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def context(chromium):
    # bypass_csp: axe is injected as a script, which the page's CSP rightly forbids.
    ctx = chromium.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900})
    yield ctx
    ctx.close()


class MemberSite:
    """Serves the HTML given to ``publish`` at ``/<name>`` on any host name."""

    def __init__(self) -> None:
        pages: dict[str, str] = {}
        self.pages = pages

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = pages.get(self.path.lstrip("/"))
                self.send_response(200 if body else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write((body or "not found").encode())

            def log_message(self, *args) -> None:
                pass

        # Port 0: the kernel picks a free one, so parallel runs never collide.
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def publish(self, name: str, snippet: str, *, host: str = MEMBER_HOST, lang: str = "en") -> str:
        self.pages[name] = (
            f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            '<title>Acme Bakery</title></head><body style="font-family:sans-serif;margin:2rem">'
            "<h1>Acme Bakery</h1><p>Fresh bread since 1901. We are members of:</p>"
            f"{snippet}<footer><p>© Acme Bakery</p></footer></body></html>"
        )
        return f"http://{host}/{name}"


@pytest.fixture(scope="session")
def member_site() -> Iterator[MemberSite]:
    site = MemberSite()
    yield site
    site.server.shutdown()


@pytest.fixture
def public_server(live_server, settings):
    """The live server, with the public URLs of snippets and pages pointing at it."""
    settings.PUBLIC_BASE_URL = live_server.url
    settings.ALLOWED_HOSTS = ["*"]
    return live_server


def shot(page, name: str, *, full_page: bool = True) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def axe_violations(page) -> list[dict]:
    """Serious and critical axe-core violations on the page as it is now."""
    page.add_script_tag(content=AXE)
    result = page.evaluate("async () => await axe.run(document)")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def overflow(page) -> tuple[int, int]:
    return page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")


WIDTHS = (375, 1280)  # a phone, a desktop
SCHEMES = ("light", "dark")


def show_at(page, width: int, scheme: str) -> None:
    """Set the viewport and colour scheme explicitly for the next check or screenshot, and
    assert the page has no horizontal overflow there. Each shot sets its own width: a shot
    taken after a loop over widths would otherwise silently keep the last one."""
    page.set_viewport_size({"width": width, "height": 800})
    page.emulate_media(color_scheme=scheme)
    scroll_width, inner_width = overflow(page)
    assert inner_width == width
    assert scroll_width <= inner_width, f"{page.url} overflows at {width}px ({scheme})"


def shot_at(page, name: str, width: int) -> Path:
    """A full-page screenshot that is exactly ``width`` pixels wide (checked)."""
    from PIL import Image

    path = shot(page, name)
    with Image.open(path) as img:
        assert img.width == width, f"{name}.png is {img.width}px wide, not {width}px"
    return path
