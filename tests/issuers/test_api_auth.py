"""Authentication and scopes: Bearer API keys only, problem+json 401/403, cheap last_used."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from issuers.models import ApiKey
from issuers.services import apikey_revoke
from tests.api_support import Api, problem

pytestmark = pytest.mark.django_db


def test_it_answers_401_with_www_authenticate_when_the_key_is_missing(api):
    api.client.credentials()
    response = api.get("/members")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="trustseal"'
    body = problem(response)
    assert body["code"] == "not_authenticated"
    assert body["instance"] == "/api/v1/members"


@pytest.mark.parametrize(
    "header",
    [
        "Bearer ts_live_000000000000_wrong",
        "Bearer not-a-key",
        "Basic dXNlcjpwYXNz",
        "Bearer",
    ],
)
def test_it_refuses_a_bad_or_malformed_key_with_401(api, header):
    api.client.credentials(HTTP_AUTHORIZATION=header)
    response = api.get("/issuer")

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith('Bearer realm="trustseal"')
    assert problem(response)["code"] == "authentication_failed"


def test_it_refuses_a_revoked_key(api):
    apikey_revoke(api_key=api.new_key.api_key)
    response = api.get("/issuer")

    assert response.status_code == 401
    assert 'error="invalid_token"' in response["WWW-Authenticate"]
    assert "revoked" in problem(response)["detail"]


def test_it_ignores_session_cookies(api, django_user_model, client):
    user = django_user_model.objects.create_superuser("admin", "a@example.com", "pw")
    client.force_login(user)

    response = client.get("/api/v1/issuer")

    assert response.status_code == 401
    assert not response.cookies


def test_a_read_only_key_cannot_write(issuer):
    reader = Api(issuer, scopes=["read"])

    assert reader.get("/members").status_code == 200
    response = reader.post("/members", {"external_ref": "A", "legal_name": "A Ltd"})

    assert response.status_code == 403
    body = problem(response)
    assert body["code"] == "insufficient_scope"
    assert body["required_scope"] == "write"
    assert "'write' scope" in body["detail"]


def test_a_write_only_key_cannot_read(issuer):
    writer = Api(issuer, scopes=["write"])
    response = writer.get("/members")

    assert response.status_code == 403
    assert problem(response)["required_scope"] == "read"


def test_last_used_is_written_at_most_once_a_minute(api, django_assert_num_queries):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        api.get("/issuer")
        key = ApiKey.objects.get(pk=api.new_key.api_key.pk)
        assert key.last_used_at == start
    with time_machine.travel(start + timedelta(seconds=30), tick=False):
        api.get("/issuer")
        assert ApiKey.objects.get(pk=key.pk).last_used_at == start
    with time_machine.travel(start + timedelta(seconds=61), tick=False):
        api.get("/issuer")
        assert ApiKey.objects.get(pk=key.pk).last_used_at == start + timedelta(seconds=61)


def test_a_recent_use_costs_no_write(api):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    api.get("/issuer")
    with CaptureQueriesContext(connection) as queries:
        api.get("/issuer")

    assert not [q for q in queries if q["sql"].upper().startswith("UPDATE")]


def test_schema_and_docs_need_no_key(client):
    schema = client.get("/api/schema/")
    docs = client.get("/api/docs/")

    assert schema.status_code == 200
    assert docs.status_code == 200
    assert b"cdn" not in docs.content.lower()
