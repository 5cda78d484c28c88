"""``GET /privacy`` says in plain words what the public side records, and says what the code
does: its routes, its retention periods and its logs."""

from __future__ import annotations

import re

import pytest

from seals.public_middleware import PUBLIC_PREFIXES

pytestmark = pytest.mark.django_db


def _text(client) -> str:
    response = client.get("/privacy")
    assert response.status_code == 200
    assert not response.cookies
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def test_it_names_the_public_routes_it_speaks_for(client):
    text = _text(client)
    # The page calls itself "this page"; the health check records nothing and serves no one.
    for prefix in set(PUBLIC_PREFIXES) - {"/privacy", "/healthz"}:
        assert prefix in text, prefix


def test_it_states_the_configured_retention_periods(client, settings):
    settings.RETENTION_DAILY_STATS_MONTHS = 7
    settings.RETENTION_WEBHOOK_DELIVERY_DAYS = 11
    settings.RETENTION_CLOSED_DATA_REQUEST_YEARS = 5
    text = _text(client)
    assert "After 7 months" in text
    assert "for 11 days" in text
    assert "for 5 years" in text


def test_it_says_addresses_are_cut_to_their_network_in_limits_and_logs(client):
    text = _text(client)
    assert "We do not log your IP address or write it to disk." in text
    assert "(a /24)" in text and "(a /48)" in text
    # The edge's per-client limit (deploy/nginx/nginx.conf) is the one use of the full address.
    assert "One limit uses your full address" in text
    assert "kept only in the web server's memory" in text
    assert "web server's log of requests is cut the same way" in text
    assert "does not record your full address, your browser or the page you came from" in text


def test_it_says_erased_organisations_seals_are_only_no_longer_valid(client):
    assert "say only that the seal is no longer valid" in _text(client)
