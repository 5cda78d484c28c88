"""``import.completed``: one webhook per finished import, queued with the job's outcome."""

from __future__ import annotations

import json

import pytest

from effects.webhooks import webhook_endpoint_create
from issuers.models import Member, WebhookDelivery
from seals import imports
from seals.imports import import_job_run, import_start
from tests.seals.test_api_imports import csv_bytes, good_rows


@pytest.fixture
def endpoint(issuer):
    return webhook_endpoint_create(
        issuer=issuer, url="https://hooks.example/in", event_types=["import.completed"]
    ).endpoint


def completed() -> list[dict]:
    return [
        d.payload["data"]
        for d in WebhookDelivery.objects.filter(event_type="import.completed").order_by("pk")
    ]


def start(issuer, data: bytes, **options):
    return import_start(issuer=issuer, data=data, fmt="csv", actor="test", **options)


def test_a_finished_import_queues_import_completed_with_its_counts(issuer, endpoint):
    start(issuer, csv_bytes(good_rows(3)))
    rows = good_rows(4)
    rows[0][1] = "Renamed Ltd"
    job, _ = start(issuer, csv_bytes(rows), mode="partial")

    assert completed()[-1] == {
        "import": job.pk,
        "state": "succeeded",
        "format": "csv",
        "mode": "partial",
        "dry_run": False,
        "counts": {"total": 4, "created": 1, "updated": 1, "unchanged": 2, "failed": 0},
        "finished_at": job.finished_at.isoformat(),
    }
    assert len(completed()) == 2
    delivery = WebhookDelivery.objects.filter(event_type="import.completed").last()
    assert delivery.endpoint == endpoint and delivery.state == "pending"


def test_a_dry_run_emits_too_flagged_and_writes_nothing(issuer, endpoint):
    job, _ = start(issuer, csv_bytes(good_rows(2)), dry_run=True)

    (data,) = completed()
    assert data["import"] == job.pk and data["dry_run"] is True
    assert data["counts"]["created"] == 2 and data["state"] == "succeeded"
    assert not Member.objects.filter(issuer=issuer).exists()


def test_a_rejected_import_reports_failed_without_quoting_row_errors(issuer, endpoint):
    rows = good_rows(2)
    rows[1][3] = "not-an-email@@example"
    job, report = start(issuer, csv_bytes(rows))

    (data,) = completed()
    assert job.state == data["state"] == "failed"
    assert data["counts"] == {"total": 2, "created": 0, "updated": 0, "unchanged": 0, "failed": 1}
    assert [(e["row"], e["field"]) for e in report.errors] == [(2, "contact_email")]
    assert "not-an-email" not in json.dumps(report.errors)  # personal fields are never quoted
    assert "not-an-email" not in json.dumps(data)


def test_a_queued_job_emits_once_when_it_finishes_not_when_queued(issuer, endpoint, monkeypatch):
    monkeypatch.setattr(imports, "ASYNC_THRESHOLD", 2)
    job, report = start(issuer, csv_bytes(good_rows(5)))
    assert report is None and completed() == []

    import_job_run(job_id=job.pk, actor="test")
    import_job_run(job_id=job.pk, actor="test")  # a re-delivered message finds the job taken

    (data,) = completed()
    assert (data["import"], data["state"], data["counts"]["created"]) == (job.pk, "succeeded", 5)


def test_a_job_that_crashes_still_reports_failed(issuer, endpoint, monkeypatch):
    monkeypatch.setattr(imports, "ASYNC_THRESHOLD", 2)
    job, _ = start(issuer, csv_bytes(good_rows(5)))

    def boom(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(imports, "_write", boom)
    with pytest.raises(RuntimeError):
        import_job_run(job_id=job.pk, actor="test")

    (data,) = completed()
    assert data["state"] == "failed" and data["import"] == job.pk
    job.refresh_from_db()
    assert job.state == "failed"
    assert job.reason == "The import stopped on an unexpected error (RuntimeError)."
    assert job.source is None


def test_no_endpoint_no_delivery(issuer):
    start(issuer, csv_bytes(good_rows(1)))
    assert not WebhookDelivery.objects.exists()
