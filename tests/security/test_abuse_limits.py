"""Abuse limits: per-network rate limits on the public endpoints, body and file size caps and
pagination caps, each answered with problem+json."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import override_settings

from config import ratelimit
from seals.api.imports import ImportViewSet
from tests.api_support import problem
from tests.factories import MemberFactory, award

LIMITS = {"default": 3, "verify-credential": 2, "certificate": 1}
# Mid-minute: the limiter counts in fixed one-minute windows (config/ratelimit.py), and a run
# that crossed a boundary between its requests would see the count start again.
INSIDE_ONE_WINDOW = datetime(2026, 3, 1, 12, 0, 30, tzinfo=UTC)
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_tight_limits", "_one_window")]


@pytest.fixture
def _tight_limits(settings):
    settings.PUBLIC_RATE_LIMITS = LIMITS


@pytest.fixture
def _one_window():
    with time_machine.travel(INSIDE_ONE_WINDOW, tick=False):
        yield


@pytest.fixture
def seal(issuer):
    return award(MemberFactory(issuer=issuer))


def _public_paths(seal) -> list[str]:
    slug = seal.issuer.slug
    return [
        f"/verify/{seal.public_id}",
        f"/verify/{seal.public_id}.json",
        f"/embed/{seal.public_id}",
        f"/s/{seal.public_id}/credential.jwt",
        f"/issuers/{slug}",
        f"/issuers/{slug}/jwks.json",
        f"/issuers/{slug}/status/revocation",
    ]


def test_every_public_page_answers_429_problem_json_past_the_limit(client, seal):
    for path in _public_paths(seal):
        statuses = [client.get(path, REMOTE_ADDR="203.0.113.5").status_code for _ in range(4)]
        assert statuses[:3] == [200] * 3 and statuses[3] == 429, (path, statuses)
        refused = client.get(path, REMOTE_ADDR="203.0.113.5")
        body = problem(refused)
        assert body["code"] == "throttled"
        assert int(refused["Retry-After"]) == 30  # to the end of the frozen window
        assert refused["Cache-Control"] == "no-store"
        assert not refused.cookies
        ratelimit.cache.clear()


def test_the_count_starts_again_in_the_next_window_and_not_before(client, seal):
    path = f"/verify/{seal.public_id}.json"
    assert [client.get(path).status_code for _ in range(4)] == [200, 200, 200, 429]
    with time_machine.travel(INSIDE_ONE_WINDOW + timedelta(seconds=29), tick=False):
        assert client.get(path).status_code == 429  # 12:00:59, same window
    with time_machine.travel(INSIDE_ONE_WINDOW + timedelta(seconds=30), tick=False):
        assert client.get(path).status_code == 200  # 12:01:00, a new window


def test_the_limit_is_per_network_not_per_address(client, seal):
    path = f"/verify/{seal.public_id}.json"
    for host in range(3):
        assert client.get(path, REMOTE_ADDR=f"198.51.100.{host}").status_code == 200
    assert client.get(path, REMOTE_ADDR="198.51.100.200").status_code == 429  # same /24
    assert client.get(path, REMOTE_ADDR="198.51.101.1").status_code == 200  # another /24
    v6 = [client.get(path, REMOTE_ADDR=f"2001:db8:1:{n}::1").status_code for n in range(4)]
    assert v6 == [200, 200, 200, 429]  # one /48


@override_settings(TRUSTED_PROXY_COUNT=0)
def test_a_forged_forwarded_for_is_ignored_without_trusted_proxies(client, seal):
    path = f"/verify/{seal.public_id}.json"
    statuses = [
        client.get(path, REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR=f"10.{n}.0.1").status_code
        for n in range(4)
    ]
    assert statuses == [200, 200, 200, 429]


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_a_forged_forwarded_for_cannot_rotate_the_key_behind_one_proxy(client, seal):
    """The client writes the left entries; only the one our proxy appended is believed."""
    path = f"/verify/{seal.public_id}.json"
    statuses = [
        client.get(
            path,
            REMOTE_ADDR="10.0.0.2",  # the proxy
            HTTP_X_FORWARDED_FOR=f"192.0.2.{n}, 172.16.{n}.9, 203.0.113.77",
        ).status_code
        for n in range(4)
    ]
    assert statuses == [200, 200, 200, 429]
    other = client.get(path, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.4")
    assert other.status_code == 200


def test_post_verify_credential_has_its_own_tighter_limit(client):
    statuses = [
        client.post("/verify/credential", "x.y.z", content_type="text/plain").status_code
        for _ in range(3)
    ]
    assert statuses == [200, 200, 429]


def test_the_seal_image_is_left_to_the_edge_and_never_limited_at_the_origin(client, seal):
    statuses = {client.get(f"/s/{seal.public_id}.svg").status_code for _ in range(10)}
    assert statuses == {200}


def test_the_limiter_costs_no_database_query(rf, django_assert_num_queries):
    request = rf.get("/verify/x", REMOTE_ADDR="203.0.113.1")
    with django_assert_num_queries(0):
        assert ratelimit.retry_after(request, scope="default") is None


def test_a_zero_limit_switches_a_scope_off(rf, settings):
    settings.PUBLIC_RATE_LIMITS = {**LIMITS, "default": 0}
    request = rf.get("/verify/x", REMOTE_ADDR="203.0.113.1")
    assert all(ratelimit.retry_after(request, scope="default") is None for _ in range(10))


def test_an_oversized_credential_post_is_a_413_problem(client):
    response = client.post("/verify/credential", "a" * (65 * 1024), content_type="text/plain")
    assert response.status_code == 413
    assert response["Content-Type"] == "application/problem+json"


def test_an_oversized_api_body_is_refused_before_it_is_parsed(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    body = json.dumps({"legal_name": "x" * 4096, "external_ref": "big"})
    response = api.client.post("/api/v1/members", body, content_type="application/json")
    assert problem(response)["status"] == 413


def test_an_import_file_over_the_cap_is_a_413_problem_and_no_job(api, monkeypatch):
    from issuers.models import ImportJob

    monkeypatch.setattr(ImportViewSet, "max_body_bytes", 2048)
    csv = "external_ref,legal_name\n" + "".join(f"R{n},Name {n}\n" for n in range(400))
    response = api.client.post("/api/v1/imports", csv.encode(), content_type="text/csv")
    body = problem(response)
    assert body["status"] == 413 and "2048" in body["detail"]
    assert not ImportJob.objects.exists()


@pytest.mark.parametrize("limit", ["100000", "-1", "0", "abc", "1e9", "99999999999999999999"])
def test_list_pagination_is_capped_and_never_fails(api, limit):
    for n in range(3):
        MemberFactory(issuer=api.issuer, external_ref=f"P-{n}")
    response = api.client.get("/api/v1/members", {"limit": limit})
    assert response.status_code == 200, response.content
    assert len(response.json()["results"]) <= 200


def test_a_forged_cursor_is_a_clear_4xx(api):
    response = api.client.get("/api/v1/members", {"cursor": "!!not base64!!"})
    assert 400 <= response.status_code < 500
    problem(response)
