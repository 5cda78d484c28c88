"""The seal image hot path: no query when warm, honest headers, and the trimmed
middleware chain that public reads take in production (``config.wsgi``)."""

from __future__ import annotations

import io

import pytest
from django.contrib.sessions.middleware import SessionMiddleware
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.middleware.csrf import CsrfViewMiddleware
from django.test import RequestFactory
from PIL import Image

from config import wsgi
from seals import public_views
from tests.seals.public_helpers import seal_in

pytestmark = pytest.mark.django_db


def _call(app, path: str, **headers: str) -> tuple[str, dict[str, str], bytes]:
    """One request through a WSGI callable, as the app server makes it."""
    environ = RequestFactory().get(path, **headers).environ
    seen: dict = {}

    def start_response(status, response_headers, exc_info=None):
        seen["status"], seen["headers"] = status, response_headers

    # As Django's test client does: the test's database connection must outlive the request.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        chunks = app(environ, start_response)
        try:
            body = b"".join(chunks)
        finally:
            getattr(chunks, "close", lambda: None)()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    names = [name.lower() for name, _ in seen["headers"]]
    return (
        seen["status"],
        {**dict((k.lower(), v) for k, v in seen["headers"]), "_names": names},
        body,
    )


@pytest.mark.parametrize("suffix", [".svg", ".png"])
def test_a_warm_image_its_304_and_the_json_make_no_query(client, django_assert_num_queries, suffix):
    seal = seal_in("active")
    url = f"/s/{seal.public_id}{suffix}"
    etag = client.get(url)["ETag"]
    client.get(f"/verify/{seal.public_id}.json")
    with django_assert_num_queries(0):
        assert client.get(url).status_code == 200
        assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
        assert client.get(f"/verify/{seal.public_id}.json").status_code == 200


def test_the_production_entry_point_serves_a_warm_image_with_no_query(django_assert_num_queries):
    seal = seal_in("active")
    path = f"/s/{seal.public_id}.png"
    _call(wsgi.application, path)
    with django_assert_num_queries(0):
        status, _headers, body = _call(wsgi.application, path)
    assert status == "200 OK"
    assert Image.open(io.BytesIO(body)).size == (240, 72)


@pytest.mark.parametrize("suffix", [".svg", ".png"])
def test_images_state_their_exact_content_length(client, suffix):
    seal = seal_in("active")
    response = client.get(f"/s/{seal.public_id}{suffix}")
    assert response["Content-Length"] == str(len(response.content))
    assert int(response["Content-Length"]) > 100


def test_the_etag_is_the_same_on_a_node_with_empty_caches(client):
    # Another web node has its own in-process LRU and may see the shared cache empty (or
    # a new snapshot generation token): the ETag must depend on the seal only.
    seal = seal_in("active")
    url = f"/s/{seal.public_id}.png"
    first = client.get(url)
    cache.clear()
    public_views._bytes.items.clear()
    second = client.get(url)
    assert first["ETag"] == second["ETag"]
    assert first.content == second.content


def test_public_reads_skip_session_csrf_auth_and_messages():
    skipped = set(wsgi.SKIPPED_ON_PUBLIC_READS)
    assert not skipped & set(wsgi.public_middleware())
    assert "seals.public_middleware.PublicResponseMiddleware" in wsgi.public_middleware()
    assert "django.middleware.security.SecurityMiddleware" in wsgi.public_middleware()


def test_the_trimmed_chain_does_no_session_work_and_sets_no_cookie(monkeypatch):
    calls = []
    monkeypatch.setattr(
        SessionMiddleware, "process_request", lambda self, request: calls.append("session")
    )
    monkeypatch.setattr(
        CsrfViewMiddleware, "process_request", lambda self, request: calls.append("csrf")
    )
    seal = seal_in("active")
    handler = wsgi.PublicReadHandler()
    status, headers, _ = _call(
        handler, f"/s/{seal.public_id}.svg", HTTP_COOKIE="sessionid=abc; csrftoken=def"
    )
    assert status == "200 OK"
    assert calls == []
    assert "set-cookie" not in headers["_names"]
    assert "cookie" not in headers.get("vary", "").lower()
    # The full chain does run them: the check above could fail.
    _call(wsgi.full_application, f"/s/{seal.public_id}.svg")
    assert "session" in calls


def test_only_public_reads_take_the_trimmed_chain():
    taken = []
    app = wsgi.dispatcher(
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
