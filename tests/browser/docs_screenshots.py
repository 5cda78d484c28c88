"""Regenerate ``docs/screenshots/`` from the current code, so the docs show the page and the
images at every status as they are, not as they were.

Seeds the demo issuer (``manage.py demo``, plus one pending seal, which the demo has not) into
a throw-away var directory, serves it with ``runserver`` on a free port, and writes:

- ``page-<status>.png`` (900 px wide), ``page-active-phone.png`` (390 px), ``page-not-found.png``:
  the verification page in Debian's Chromium, full page;
- ``seal-<status>-<size>-<theme>.png``, ``seal-misuse-medium-light.png``,
  ``seal-not-found.png``: the seal image bytes exactly as served;
- ``visitor/``: the browser suite's own screenshots, copied from ``artifacts/browser/`` when
  ``pytest tests/browser/test_visitor.py`` has produced them.

Run: ``.venv/bin/python tests/browser/docs_screenshots.py`` (needs /usr/bin/chromium). It never
touches ``var/``, a configured database or Redis: everything lives in a temporary directory.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "docs" / "screenshots"
ARTIFACTS = ROOT / "artifacts" / "browser"
CHROMIUM = os.environ.get("TRUSTSEAL_CHROMIUM", "/usr/bin/chromium")
STATUSES = ("active", "pending", "expired", "suspended", "revoked")
UNKNOWN_ID = "A" * 22
# Which browser-suite screenshots the docs keep (the suite writes many more).
VISITOR = [
    "foreign-site",
    "member-site-active",
    "member-site-ar",
    "verify-active-light",
    "verify-expired-light",
    "verify-pending-light",
    "verify-suspended-light",
    "verify-revoked-dark",
    "verify-revoked-375-light",
    "verify-foreign-site-warning",
    "verify-ar-375",
    "verify-de-375-dark",
    "verify-fr-1280",
    "verify-page-en-1280",
    "verify-page-ar-375",
    "check-credential-result-en-1280",
    "misuse-form-en-375",
    "issuer-page-en-1280",
]
# Run in a child process, where Django is set up against the throw-away var directory.
SEED = """
import json
from datetime import timedelta
from django.utils import timezone
from demo.management.commands.demo import DEMO_MEMBERS, DEMO_SLUG, _demo_member
from issuers.models import Issuer
from issuers.services import programme_default
from seals.services import seal_award
from config.tenancy import scopes_disabled

with scopes_disabled():  # a script, outside any request: every issuer's rows
    issuer = Issuer.objects.get(slug=DEMO_SLUG)
    refs = {"active": "DEMO-ACTIVE", "expired": "DEMO-EXPIRED", "suspended": "DEMO-SUSPENDED",
            "revoked": "DEMO-REVOKED"}
    ids = {s: issuer.members.get(external_ref=r).seals.get().public_id for s, r in refs.items()}
    member = _demo_member(issuer, "DEMO-PENDING", "Greenway Gardens", "greenway.example")
    seal = member.seals.first() or seal_award(
        member=member, programme=programme_default(issuer), actor="demo",
        valid_from=timezone.now() + timedelta(days=10),
        expires_at=timezone.now() + timedelta(days=375),
    )
    ids["pending"] = seal.public_id
print(json.dumps(ids))
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(  # noqa: S603 - this interpreter, our manage.py, fixed arguments
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode:
        sys.exit(f"manage.py {args[0]} failed:\n{done.stderr}")
    return done.stdout


def _wait(url: str) -> None:
    for _ in range(100):
        try:
            urllib.request.urlopen(url, timeout=1)  # noqa: S310 - our own local server
            return
        except urllib.error.HTTPError:
            return  # any answer means it is up
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer")


def _fetch(url: str) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - local server
            return response.read()
    except urllib.error.HTTPError as error:  # the neutral 404 image is an answer too
        return error.read()


def _pages(base: str, ids: dict[str, str]) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"], headless=True
        )
        page = browser.new_page(viewport={"width": 900, "height": 800})
        for status, seal_id in ids.items():
            page.goto(f"{base}/verify/{seal_id}")
            page.screenshot(path=str(OUT / f"page-{status}.png"), full_page=True)
        page.set_viewport_size({"width": 390, "height": 800})
        page.goto(f"{base}/verify/{ids['active']}")
        page.screenshot(path=str(OUT / "page-active-phone.png"), full_page=True)
        page.set_viewport_size({"width": 900, "height": 500})
        page.goto(f"{base}/verify/{UNKNOWN_ID}")
        page.screenshot(path=str(OUT / "page-not-found.png"), full_page=True)
        browser.close()


def _seals(base: str, ids: dict[str, str]) -> None:
    for status, seal_id in ids.items():
        for size, theme in (("small", "light"), ("medium", "light"), ("large", "dark")):
            body = _fetch(f"{base}/s/{seal_id}.png?size={size}&theme={theme}")
            (OUT / f"seal-{status}-{size}-{theme}.png").write_bytes(body)
    misuse = _fetch(f"{base}/s/{ids['active']}.png?d=copycat.example")
    (OUT / "seal-misuse-medium-light.png").write_bytes(misuse)
    (OUT / "seal-not-found.png").write_bytes(_fetch(f"{base}/s/{UNKNOWN_ID}.png"))


def _visitor() -> list[str]:
    copied = []
    for name in VISITOR:
        source = ARTIFACTS / f"{name}.png"
        if source.exists():
            shutil.copyfile(source, OUT / "visitor" / source.name)
            copied.append(name)
    return copied


def main() -> None:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="trustseal-shots-") as var_dir:
        env = {
            k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "DEBUG")
        }
        env.update(TRUSTSEAL_VAR_DIR=var_dir, PUBLIC_BASE_URL=base)
        _manage(env, "migrate", "--noinput")
        _manage(env, "demo")
        ids = json.loads(_manage(env, "shell", "-c", SEED).strip().splitlines()[-1])
        server = subprocess.Popen(  # noqa: S603 - this interpreter, our manage.py
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _wait(f"{base}/verify/{UNKNOWN_ID}")
            OUT.mkdir(parents=True, exist_ok=True)
            (OUT / "visitor").mkdir(exist_ok=True)
            _pages(base, ids)
            _seals(base, ids)
        finally:
            server.terminate()
            server.wait(timeout=10)
    copied = _visitor()
    print(f"wrote {OUT}; visitor/: {len(copied)} of {len(VISITOR)} copied from {ARTIFACTS}")


if __name__ == "__main__":
    main()
