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


def dry_run_with_every_kind_of_row(world, client) -> ImportJob:
    """Two members imported for real, then a partial dry run: one row unchanged, one updated
    with a new expiry, one new, one in error."""
    upload(client, csv_bytes(good_rows(2)))
    rows = good_rows(3)
    rows[1][1], rows[1][5] = "Renamed Ltd", "2031-06-30"
    rows.append(["R-BAD", "Bad Ltd", "not a host", "x", "GB", "2030-01-31"])
    upload(client, csv_bytes(rows), mode="partial", dry_run="on")
    return ImportJob.objects.filter(dry_run=True).get()


def test_a_dry_run_page_says_what_would_change_and_writes_nothing(world, manager_client):
    job = dry_run_with_every_kind_of_row(world, manager_client)
    assert (job.created, job.updated, job.unchanged, job.failed) == (1, 1, 1, 1)
    assert (job.seals_awarded, job.seals_renewed, job.seals_unchanged) == (1, 1, 1)
    assert not Member.objects.filter(external_ref="R-00002").exists()
    assert Member.objects.get(external_ref="R-00001").legal_name == "Member 1 Ltd"
    page = manager_client.get(reverse("console:import", args=[job.pk])).content.decode()
    assert "What the import would change" in page and "Run import" in page
    assert "<td>4</td>" in page and "domains" in page  # row 4's error, on its field
    assert reverse("console:import-errors-csv", args=[job.pk]) in page


def test_run_import_writes_the_checked_file_once(world, manager_client):
    job = dry_run_with_every_kind_of_row(world, manager_client)
    response = manager_client.post(reverse("console:import-run", args=[job.pk]))
    real = ImportJob.objects.exclude(pk__in=[world.import_job.pk, job.pk]).latest("pk")
    assert response["Location"] == reverse("console:import", args=[real.pk])
    assert (real.dry_run, real.state, real.created, real.updated) == (False, "succeeded", 1, 1)
    assert (real.seals_awarded, real.seals_renewed) == (1, 1)
    assert Member.objects.get(external_ref="R-00001").legal_name == "Renamed Ltd"
    assert ImportJob.objects.filter(pk=job.pk, source__isnull=True).exists()
    again = manager_client.post(reverse("console:import-run", args=[job.pk]), follow=True)
    assert "Only a finished dry run" in again.content.decode()
    assert ImportJob.objects.filter(dry_run=False).count() == 3  # the fixture's, two real ones


def test_an_all_or_nothing_dry_run_with_errors_offers_no_run(world, manager_client):
    rows = [*good_rows(1), ["R-BAD", "Bad Ltd", "not a host", "x", "GB", "2030-01-31"]]
    upload(manager_client, csv_bytes(rows), dry_run="on")
    job = ImportJob.objects.filter(dry_run=True).get()
    assert (job.state, job.created, job.failed) == ("failed", 1, 1)
    page = manager_client.get(reverse("console:import", args=[job.pk])).content.decode()
    assert "Run import" not in page and "Nothing was written" in page


def test_the_row_errors_download_as_csv_defused(world, manager_client):
    rows = [["=cmd()", "", "m.example", "c@m.example", "GB", "2030-01-31"]]
    upload(manager_client, csv_bytes(rows), dry_run="on")
    job = ImportJob.objects.filter(dry_run=True).get()
    response = manager_client.get(reverse("console:import-errors-csv", args=[job.pk]))
    assert response["Content-Type"].startswith("text/csv")
    lines = response.content.decode().splitlines()
    assert lines[0] == "row,field,code,message"
    assert lines[1].startswith("1,legal_name,")


def test_the_page_shows_the_first_100_errors_and_the_csv_has_all_of_them(world, manager_client):
    rows = good_rows(160)
    for row in rows[:130]:
        row[4] = "Great Britain"
    rows[159][1] = ""
    upload(manager_client, csv_bytes(rows), dry_run="on")
    job = ImportJob.objects.filter(dry_run=True).get()
    assert (job.failed, job.error_count) == (131, 131)

    page = manager_client.get(reverse("console:import", args=[job.pk])).content.decode()
    assert page.count("<tr><td>") == 100
    assert "31 more in the CSV." in page
    response = manager_client.get(reverse("console:import-errors-csv", args=[job.pk]))
    lines = response.content.decode().splitlines()
    assert len(lines) == 1 + 131
    assert lines[-1].startswith("160,legal_name,")
    german = manager_client.get(
        reverse("console:import", args=[job.pk]), HTTP_ACCEPT_LANGUAGE="de"
    ).content.decode()
    assert "31 weitere in der CSV-Datei." in german


def test_a_viewer_cannot_run_an_import(world, manager_client, viewer_client):
    job = dry_run_with_every_kind_of_row(world, manager_client)
    assert (
        "Run import"
        not in viewer_client.get(reverse("console:import", args=[job.pk])).content.decode()
    )
    assert viewer_client.post(reverse("console:import-run", args=[job.pk])).status_code == 403
    assert not Member.objects.filter(external_ref="R-00002").exists()
