"""Conventions shared by every endpoint: problem+json errors, idempotency, throttling, times."""

from __future__ import annotations

import re

import pytest
from rest_framework.test import APIClient

from config.errors import DomainError, InvalidInputError
from config.problems import exception_handler
from issuers.api import idempotency
from issuers.api.base import ApiKeyRateThrottle
from issuers.models import IdempotencyRecord, Member
from seals import services as seal_services
from seals.api import views
from tests.api_support import problem
from tests.factories import MemberFactory, award

pytestmark = pytest.mark.django_db

RFC3339_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
MEMBER = {"external_ref": "A-1", "legal_name": "Acme Ltd", "domains": ["acme.example"]}


def test_validation_errors_list_every_field(api):
    response = api.post(
        "/members", {"external_ref": "", "domains": ["https://acme.example/", "ok.example"]}
    )

    assert response.status_code == 400
    body = problem(response)
    assert body["type"].endswith("/validation-error")
    fields = {e["field"]: e for e in body["errors"]}
    assert set(fields) == {"external_ref", "legal_name", "domains"}
    assert fields["legal_name"]["code"] == "required"
    assert "without scheme" in fields["domains"]["message"]


def test_malformed_json_is_a_400_problem(api):
    response = api.client.post("/api/v1/members", b"{not json", content_type="application/json")

    assert response.status_code == 400
    assert problem(response)["code"] == "parse_error"


def test_an_unknown_api_route_is_a_404_problem(api):
    response = api.client.get("/api/v1/no-such-thing")

    assert response.status_code == 404
    assert problem(response)["code"] == "not_found"


def test_a_public_404_stays_a_plain_cookie_free_page(client):
    response = client.get("/no-such-page")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert not response.cookies


def test_a_wrong_method_is_a_405_problem_with_allow(api):
    response = api.delete("/issuer")

    assert response.status_code == 405
    assert problem(response)["code"] == "method_not_allowed"
    assert "PATCH" in response["Allow"]


def test_a_form_body_is_a_415_problem(api):
    response = api.client.post("/api/v1/members", {"external_ref": "x"})  # multipart

    assert response.status_code == 415
    assert problem(response)["code"] == "unsupported_media_type"


def test_an_oversized_body_is_a_413_problem(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = api.client.post("/api/v1/members", "x" * 2000, content_type="application/json")

    assert response.status_code == 413
    assert "at most 1000" in problem(response)["detail"]


def test_an_unexpected_error_is_a_500_problem(api, monkeypatch):
    def boom(self, request):
        raise RuntimeError("database on fire")

    monkeypatch.setattr(views.IssuerView, "get", boom)
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api.key}")

    response = client.get("/api/v1/issuer")

    assert response.status_code == 500
    body = problem(response)
    assert body["code"] == "server_error"
    assert "fire" not in body["detail"]  # no internals leak


@pytest.mark.parametrize("error", [ValueError, TypeError])
def test_a_stray_error_from_a_service_is_a_logged_500_never_a_field_error(
    api, monkeypatch, caplog, error
):
    seal = award(MemberFactory(issuer=api.issuer))

    def renew(**kwargs):
        raise error("expires_at is not what it should be")

    monkeypatch.setattr(seal_services, "seal_renew", renew)
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api.key}")

    response = client.post(
        f"/api/v1/seals/{seal.public_id}/renew",
        {"expires_at": "2031-01-01T00:00:00Z", "reason": "Annual renewal."},
        format="json",
    )

    assert response.status_code == 500
    body = problem(response)
    assert body["code"] == "server_error" and "errors" not in body
    logged = [r for r in caplog.records if r.name == "django.request" and r.exc_info]
    assert [r.exc_info[0] for r in logged] == [error]


def test_a_domain_error_is_answered_with_its_own_status_code_and_field():
    class Locked(DomainError):
        status_code = 423
        code = "seal_locked"

    locked = exception_handler(Locked("The seal is locked."), {})
    one_field = exception_handler(InvalidInputError("expires_at", "Too late."), {})
    whole_body = exception_handler(InvalidInputError(None, "Not editable: slug"), {})

    assert (locked.status_code, locked.data["code"]) == (423, "seal_locked")
    assert locked.data["detail"] == "The seal is locked." and "errors" not in locked.data
    assert (one_field.status_code, one_field.data["code"]) == (400, "validation_error")
    assert one_field.data["errors"] == [
        {"field": "expires_at", "message": "Too late.", "code": "invalid"}
    ]
    assert one_field.data["detail"] == "expires_at: Too late."
    assert whole_body.data["errors"] == [
        {"field": None, "message": "Not editable: slug", "code": "invalid"}
    ]


def test_the_same_idempotency_key_and_body_replays_the_first_answer(api):
    first = api.post("/members", MEMBER, idempotency_key="k-1")
    again = api.post("/members", MEMBER, idempotency_key="k-1")

    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert again["Idempotent-Replayed"] == "true"
    assert Member.objects.filter(issuer=api.issuer).count() == 1


def test_the_same_idempotency_key_with_another_body_is_422(api):
    api.post("/members", MEMBER, idempotency_key="k-2")
    response = api.post("/members", {**MEMBER, "external_ref": "A-2"}, idempotency_key="k-2")

    assert response.status_code == 422
    assert problem(response)["code"] == "idempotency_key_reused"
    assert Member.objects.filter(issuer=api.issuer).count() == 1


def test_idempotency_keys_belong_to_one_api_key(api, other_api):
    api.post("/members", MEMBER, idempotency_key="shared")
    response = other_api.post("/members", MEMBER, idempotency_key="shared")

    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response
    assert IdempotencyRecord.objects.filter(key="shared").count() == 2


def test_a_replayed_error_is_replayed_too(api):
    first = api.post("/members", {"external_ref": "x"}, idempotency_key="k-3")
    again = api.post("/members", {"external_ref": "x"}, idempotency_key="k-3")

    assert first.status_code == again.status_code == 400
    assert again["Content-Type"] == "application/problem+json"


def test_it_throttles_per_api_key_with_retry_after(api, other_api, monkeypatch):
    monkeypatch.setattr(ApiKeyRateThrottle, "get_rate", lambda self: "3/minute")
    for _ in range(3):
        assert api.get("/issuer").status_code == 200

    response = api.get("/issuer")

    assert response.status_code == 429
    body = problem(response)
    assert body["code"] == "throttled"
    assert 1 <= int(response["Retry-After"]) <= 60
    assert body["retry_after"] == int(response["Retry-After"])
    assert other_api.get("/issuer").status_code == 200  # another key has its own bucket


def test_timestamps_are_rfc3339_utc(api):
    body = api.post("/members", MEMBER).json()

    assert RFC3339_UTC.match(body["created_at"]), body["created_at"]
    assert RFC3339_UTC.match(body["updated_at"])


@pytest.mark.parametrize(
    "path",
    [
        "/seals?member=99999999999999999999999",
        "/seals?member=-219953622793705117188096",
        "/data-requests?member=99999999999999999999999",
    ],
)
def test_out_of_range_ids_in_filters_are_a_400_naming_the_field(api, path):
    response = api.get(path)

    assert response.status_code == 400
    assert [e["field"] for e in problem(response)["errors"]] == ["member"]


def test_out_of_range_member_id_when_awarding_is_a_400(api):
    response = api.post("/seals", {"member": 2**63})

    assert response.status_code == 400
    assert problem(response)["errors"][0]["field"] == "member"


# --- Django's own errors under /api/ ---------------------------------------------------------


def test_a_bad_host_header_under_api_is_a_problem(api):
    response = api.client.get("/api/v1/members", HTTP_HOST="evil.example")

    assert response.status_code == 400
    body = problem(response)
    assert body["code"] == "bad_request"
    assert "evil.example" not in body["detail"]  # attacker-chosen text is not echoed


def test_a_bad_host_header_elsewhere_keeps_django_s_page(client):
    response = client.get("/healthz", HTTP_HOST="evil.example")

    assert response.status_code == 400
    assert not response["Content-Type"].startswith("application/problem+json")


# --- Idempotency-Key: claims and large bodies ------------------------------------------------


def test_a_large_import_is_accepted_with_an_idempotency_key_as_without(api, settings):
    from tests.seals.test_api_imports import csv_bytes, good_rows

    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    data = csv_bytes(good_rows(40))
    assert len(data) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE

    def post(key: str | None):
        headers = {"Idempotency-Key": key} if key else None
        return api.client.post("/api/v1/imports", data, content_type="text/csv", headers=headers)

    first = post("big-1")
    again = post("big-1")

    assert first.status_code == 201, first.content
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert again.content == first.content
    assert Member.objects.filter(issuer=api.issuer).count() == 40
    assert post(None).status_code == 201  # the same limits without the key


def test_a_different_large_body_with_the_same_key_is_still_422(api, settings):
    from tests.seals.test_api_imports import csv_bytes, good_rows

    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    headers = {"Idempotency-Key": "big-2"}
    for start, expected in ((0, 201), (1, 422)):
        response = api.client.post(
            "/api/v1/imports",
            csv_bytes(good_rows(40, start=start)),
            content_type="text/csv",
            headers=headers,
        )
        assert response.status_code == expected


def _claim_in_flight(api, key: str) -> IdempotencyRecord:
    """The record as a first request holds it while it runs: sent once for the exact
    fingerprint, then turned back into an unanswered claim, its member gone."""
    api.post("/members", MEMBER, idempotency_key=key)
    Member.objects.all().delete()
    IdempotencyRecord.objects.filter(key=key).update(response_status=idempotency.IN_FLIGHT)
    return IdempotencyRecord.objects.get(key=key)


def test_a_repeat_of_a_request_in_flight_is_409_with_retry_after(api, monkeypatch):
    monkeypatch.setattr(idempotency, "IN_FLIGHT_WAIT", 0.1)
    _claim_in_flight(api, "k-busy")

    response = api.post("/members", MEMBER, idempotency_key="k-busy")

    assert response.status_code == 409
    assert problem(response)["code"] == "idempotency_in_progress"
    assert response["Retry-After"] == "1"
    assert not Member.objects.exists()


def test_another_body_under_a_key_in_flight_is_still_422(api):
    _claim_in_flight(api, "k-busy")

    response = api.post("/members", {**MEMBER, "external_ref": "B"}, idempotency_key="k-busy")

    assert response.status_code == 422


def test_a_claim_left_by_a_crashed_process_is_taken_over(api):
    from datetime import timedelta

    from django.utils import timezone

    record = _claim_in_flight(api, "k-dead")
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        created_at=timezone.now() - idempotency.IN_FLIGHT_ABANDONED - timedelta(seconds=1)
    )

    response = api.post("/members", MEMBER, idempotency_key="k-dead")

    assert response.status_code == 201
    assert IdempotencyRecord.objects.get(pk=record.pk).response_status == 201


def test_a_server_error_gives_the_key_back(api, monkeypatch):
    def fail(**kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(views.services, "member_create", fail)
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api.key}")
    crashed = client.post(
        "/api/v1/members", MEMBER, format="json", headers={"Idempotency-Key": "k-500"}
    )
    monkeypatch.undo()
    retried = api.post("/members", MEMBER, idempotency_key="k-500")

    assert crashed.status_code == 500
    assert retried.status_code == 201 and "Idempotent-Replayed" not in retried
