"""Security headers on every response, and ``check --deploy`` clean with production settings.

The routes are the URL configuration's own, walked, so a new page is covered: every route
without parameters, every public seal route with a real seal, and a few error answers.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.test import override_settings
from django.urls import URLPattern, URLResolver, get_resolver

from config.security_headers import DEFAULT_CSP
from tests.factories import MemberFactory, award

ROOT = Path(__file__).resolve().parents[2]


def _walk(patterns: list, prefix: str = ""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern)


def _paths(seal) -> list[str]:
    paths = ["/no-such-page", "/api/v1/no-such-route", "/s/not-a-seal.svg", "/verify/x"]
    for route in _walk(get_resolver().url_patterns):
        plain = route.replace("^", "").replace("$", "").replace("\\", "")
        plain = re.sub(r"\(\?P<seal_id>[^)]*\)|<seal:seal_id>", seal.public_id, plain)
        plain = re.sub(r"\(\?P<slug>[^)]*\)|<slug:slug>", seal.issuer.slug, plain)
        if "<" in plain or "(" in plain or "[" in plain:
            continue  # other parameters: covered by their own tests
        paths.append("/" + plain)
    return sorted(set(paths))


@pytest.mark.django_db
def test_every_response_says_nosniff_and_a_referrer_policy_and_html_has_a_csp(client, figures):
    seal = award(MemberFactory())
    checked = html = 0
    for path in _paths(seal):
        response = client.get(path)
        assert response.status_code < 500, (path, response.status_code)
        assert response["X-Content-Type-Options"] == "nosniff", path
        assert response["Referrer-Policy"], path
        content_type = response.get("Content-Type", "")
        if content_type.startswith("text/html"):
            html += 1
            csp = response["Content-Security-Policy"]
            assert "default-src 'none'" in csp or "default-src 'self'" in csp, (path, csp)
            assert "frame-ancestors 'none'" in csp or response["X-Frame-Options"] == "DENY"
            assert "unsafe-eval" not in csp and "script-src 'unsafe-inline'" not in csp, path
        if content_type.startswith("image/svg+xml"):
            assert "script-src" not in response["Content-Security-Policy"], path
        checked += 1
    figures("security headers", responses=checked, html=html)
    assert checked >= 15 and html >= 4, (checked, html)


@pytest.mark.django_db
def test_an_error_page_gets_the_default_policy(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response["Content-Security-Policy"] == DEFAULT_CSP


@pytest.mark.django_db
def test_the_api_docs_load_no_inline_script(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    assert b"<script>" not in response.content
    assert "script-src 'self'" in response["Content-Security-Policy"]


@pytest.mark.django_db
@override_settings(
    SECURE_HSTS_SECONDS=31536000,
    SECURE_HSTS_INCLUDE_SUBDOMAINS=True,
    SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"),
)
def test_hsts_is_sent_behind_tls_and_never_over_plain_http(client):
    over_tls = client.get("/healthz", HTTP_X_FORWARDED_PROTO="https")
    assert over_tls["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "Strict-Transport-Security" not in client.get("/healthz")


def test_check_deploy_is_clean_with_the_production_settings(tmp_path):
    # Only what production would set: nothing leaks in from the test run's own environment.
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "DJANGO_ENV": "production",
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "TRUSTSEAL_VAR_DIR": str(tmp_path),
        "SECRET_KEY": Fernet.generate_key().decode() * 2,
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "KEY_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "BLIND_INDEX_KEY": Fernet.generate_key().decode(),
        "ALLOWED_HOSTS": "seal.example",
        "PUBLIC_BASE_URL": "https://seal.example",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
