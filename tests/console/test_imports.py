"""Imports from the console: the API's import service, its report shown, a queued job's page
refreshing itself while it runs."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from issuers.models import ImportJob, Member
from seals.models import SealEvent
from tests.seals.test_api_imports import csv_bytes, good_rows


def upload(client, data: bytes, name: str = "members.csv", **options):
    form = {"file": SimpleUploadedFile(name, data, "text/csv"), "mode": "all_or_nothing"}
    return client.post(reverse("console:imports"), {**form, **options})


def test_a_manager_imports_members_and_reads_the_report(world, manager_client):
    response = upload(manager_client, csv_bytes(good_rows(3)))
    assert response.status_code == 302
    job = ImportJob.objects.exclude(pk=world.import_job.pk).get()
    assert response["Location"] == reverse("console:import", args=[job.pk])
    assert (job.state, job.created) == ("succeeded", 3)
    assert Member.objects.filter(issuer=world.issuer, external_ref__startswith="R-").count() == 3
    event = SealEvent.objects.filter(seal__member__external_ref="R-00000").get()
    assert event.actor == f"staff:{world.manager.user.pk}"
    page = manager_client.get(response["Location"]).content.decode()
    assert "3 of 3 rows" in page and 'http-equiv="refresh"' not in page


def test_rows_with_errors_are_listed_and_nothing_is_written(world, manager_client):
    rows = [*good_rows(2), ["R-BAD", "Bad Ltd", "not a host", "x", "GB", "2030-01-31"]]
    response = upload(manager_client, csv_bytes(rows))
    job = ImportJob.objects.exclude(pk=world.import_job.pk).get()
    assert job.state == "failed" and job.failed == 1
    page = manager_client.get(response["Location"]).content.decode()
    assert "Nothing was written" in page and "domains" in page
    assert not Member.objects.filter(external_ref__startswith="R-").exists()


def test_an_unusable_file_is_refused_on_the_form(world, manager_client):
    response = upload(manager_client, b"\xff\xfe not text at all")
    assert response.status_code == 400
    assert ImportJob.objects.count() == 1


def test_a_queued_job_page_refreshes_itself(world, viewer_client):
    job = ImportJob.objects.create(issuer=world.issuer, format="csv", total=5000, processed=1000)
    page = viewer_client.get(reverse("console:import", args=[job.pk])).content.decode()
    assert '<meta http-equiv="refresh" content="2">' in page
    assert '<progress value="1000" max="5000">' in page
