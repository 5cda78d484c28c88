"""Static files: WhiteNoise in front of the WSGI application (config/wsgi.py), make run's way."""

from __future__ import annotations

import io
from wsgiref.util import setup_testing_defaults

import pytest

from config import wsgi


def _get(app, path: str) -> tuple[str, dict[str, str], bytes]:
    environ: dict = {"PATH_INFO": path, "REQUEST_METHOD": "GET", "wsgi.input": io.BytesIO()}
    setup_testing_defaults(environ)
    seen = {}

    def start_response(status, headers, exc_info=None):
        seen["status"], seen["headers"] = status, dict(headers)

    body = b"".join(app(environ, start_response))
    return seen["status"], seen["headers"], body


@pytest.fixture
def app(settings, tmp_path):
    (tmp_path / "seals").mkdir()
    (tmp_path / "seals" / "probe.css").write_text("body{color:#123}")
    settings.STATIC_ROOT = str(tmp_path)
    return wsgi.with_static_files(wsgi.wrap(wsgi.django_application))


@pytest.mark.django_db
def test_a_collected_file_is_served_without_a_cookie(app):
    status, headers, body = _get(app, "/static/seals/probe.css")
    assert status.startswith("200") and body == b"body{color:#123}"
    assert headers["Content-Type"].startswith("text/css") and "Set-Cookie" not in headers


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/static/..%2f..%2f..%2fetc%2fpasswd",  # as a server that leaves %2f encoded passes it
        "/static/../../../etc/passwd",  # as one that decodes it
        "/static/%2e%2e/%2e%2e/config/settings/base.py",
        "/static/seals/../../manage.py",
    ],
)
def test_a_path_out_of_the_static_folder_is_a_404_not_a_500(app, path):
    status, _headers, body = _get(app, path)
    assert status.startswith("404"), (status, body[:200])
