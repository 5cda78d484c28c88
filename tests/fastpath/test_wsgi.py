"""The fast path's WSGI side (fastpath/wsgi.py): the trimmed middleware chain public reads take
in production, the dispatcher, and the one switch that takes the whole package out."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.sessions.middleware import SessionMiddleware
from django.middleware.csrf import CsrfViewMiddleware
from django.test import override_settings
from PIL import Image

from config import wsgi
from fastpath.wsgi import (
    SKIPPED_ON_PUBLIC_READS,
    PublicReadHandler,
    dispatcher,
    public_middleware,
    wrap,
)
from tests.fastpath.support import call
from tests.seals.public_helpers import seal_in

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_the_production_entry_point_serves_a_warm_image_with_no_query(django_assert_num_queries):
    seal = seal_in("active")
    path = f"/s/{seal.public_id}.png"
    call(wsgi.application, path)
    with django_assert_num_queries(0):
        status, _headers, body = call(wsgi.application, path)
    assert status == "200 OK"
    assert Image.open(io.BytesIO(body)).size == (240, 72)


def test_public_reads_skip_session_csrf_auth_and_messages():
    assert not set(SKIPPED_ON_PUBLIC_READS) & set(public_middleware())
    assert "seals.public_middleware.PublicResponseMiddleware" in public_middleware()
    assert "django.middleware.security.SecurityMiddleware" in public_middleware()


@pytest.mark.django_db
def test_the_trimmed_chain_does_no_session_work_and_sets_no_cookie(monkeypatch):
    calls = []
    monkeypatch.setattr(
        SessionMiddleware, "process_request", lambda self, request: calls.append("session")
    )
    monkeypatch.setattr(
        CsrfViewMiddleware, "process_request", lambda self, request: calls.append("csrf")
    )
    seal = seal_in("active")
    status, headers, _ = call(
        PublicReadHandler(), f"/s/{seal.public_id}.svg", HTTP_COOKIE="sessionid=abc; csrftoken=def"
    )
    names = {name.lower(): value for name, value in headers}
    assert status == "200 OK"
    assert calls == []
    assert "set-cookie" not in names
    assert "cookie" not in names.get("vary", "").lower()
    # The full chain does run them: the check above could fail.
    call(wsgi.django_application, f"/s/{seal.public_id}.svg")
    assert "session" in calls


def test_only_public_reads_take_the_trimmed_chain():
    taken = []
    app = dispatcher(
        lambda environ, start: taken.append("full") or [],
        lambda environ, start: taken.append("public") or [],
    )
    for method, path in (
        ("GET", "/s/x.png"),
        ("HEAD", "/verify/x"),
        ("POST", "/s/x.png"),
        ("GET", "/admin/"),
        ("GET", "/api/v1/seals"),
    ):
        app({"REQUEST_METHOD": method, "PATH_INFO": path}, None)
    assert taken == ["public", "public", "full", "full", "full"]


def test_switched_off_the_wrapper_hands_back_djangos_application():
    django_app = PublicReadHandler()
    with override_settings(PUBLIC_IMAGE_FASTPATH=False):
        assert wrap(django_app) is django_app
    assert wrap(django_app) is not django_app


@pytest.mark.parametrize(
    ("switch", "backend", "wrapped"),
    [("1", "fastpath.cache.RedisCache", True), ("0", "config.cache.RedisCache", False)],
)
def test_one_setting_takes_the_whole_package_in_or_out(switch, backend, wrapped, tmp_path):
    # A fresh process: the backend is chosen when the settings load, the wrapper at import.
    code = (
        "from config import wsgi\n"
        "from django.core.cache import caches\n"
        "backend = type(caches['default'])\n"
        "print(backend.__module__ + '.' + backend.__name__)\n"
        # WhiteNoise (static files) is outermost either way; the fast path sits inside it.
        "print(wsgi.application.application is not wsgi.django_application)\n"
    )
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DJANGO")},
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "PUBLIC_IMAGE_FASTPATH": switch,
        # Never connected to: both backends connect on first use only.
        "REDIS_URL": "redis://127.0.0.1:1/0",
        "TRUSTSEAL_VAR_DIR": str(tmp_path),
    }
    result = subprocess.run(  # noqa: S603 - this interpreter, fixed code
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [backend, str(wrapped)]
