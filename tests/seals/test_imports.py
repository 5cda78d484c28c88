"""Import jobs: streamed in batches through the outbox, resumed after a dead worker, given up
with a reason; files read as streams."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from effects.webhooks import webhook_endpoint_create
from issuers.models import ImportJob, ImportRowError, Member, WebhookDelivery
from outbox import core
from outbox.models import Message
from seals import imports, services
from seals.chain import verify_chain
from seals.imports import ImportFileError, import_count, import_read, import_source, import_start
from seals.models import Seal, SealEvent
from tests.seals.test_api_imports import csv_bytes, good_rows

pytestmark = pytest.mark.django_db


class WorkerDied(BaseException):
    """A SIGKILL as the code sees it: the run stops where it is, no ``except Exception`` runs,
    the open transaction is never committed and the outbox lease is left to run out."""


@pytest.fixture
def small_batches(settings, monkeypatch):
    settings.IMPORT_BATCH_ROWS = 20
    monkeypatch.setattr(imports, "ASYNC_THRESHOLD", 10)
    monkeypatch.setattr(core, "enqueue", lambda *args, **kwargs: None)  # no broker here


def queue(issuer, rows, **options):
    job, report = import_start(
        issuer=issuer, data=csv_bytes(rows), fmt="csv", actor="test", **options
    )
    assert report is None
    return job, Message.objects.get(topic=imports.IMPORT_TOPIC, payload__job_id=job.pk)


def die_in_second_award(monkeypatch):
    """Kill the run inside its second write batch, after that batch inserted its members."""
    real, calls = services.seal_award_many, []

    def award_then_die(**kwargs):
        calls.append(len(kwargs["awards"]))
        if len(calls) == 2:
            raise WorkerDied
        return real(**kwargs)

    monkeypatch.setattr(services, "seal_award_many", award_then_die)
    return real


def after_lease(settings):
    return timezone.now() + timedelta(seconds=settings.IMPORT_LEASE_SECONDS + 1)


@pytest.mark.parametrize("mode", ["partial", "all_or_nothing"])
def test_a_run_that_dies_mid_batch_resumes_from_its_last_committed_batch(
    issuer, small_batches, monkeypatch, settings, mode
):
    hook = webhook_endpoint_create(issuer=issuer, url="https://hooks.example/in").endpoint
    job, message = queue(issuer, good_rows(70), mode=mode)
    real = die_in_second_award(monkeypatch)

    with pytest.raises(WorkerDied):
        core.run(message.pk)

    job.refresh_from_db()
    # The first batch and its progress committed together; the second left nothing behind.
    assert (job.state, job.phase, job.cursor, job.created, job.attempts) == (
        "running",
        "write",
        20,
        20,
        1,
    )
    assert Member.objects.filter(issuer=issuer).count() == 20
    assert core.run(message.pk) == "skipped"  # still leased: the worker might be alive
    monkeypatch.setattr(services, "seal_award_many", real)

    later = after_lease(settings)
    assert core.relay(now=later) == 1  # the lease ran out: handed out again
    assert core.run(message.pk, now=later) == "done"

    job.refresh_from_db()
    assert (job.state, job.attempts, job.reason) == ("succeeded", 2, "")
    assert (job.total, job.processed, job.created, job.updated, job.failed) == (70, 70, 70, 0, 0)
    refs = list(Member.objects.filter(issuer=issuer).values_list("external_ref", flat=True))
    assert sorted(refs) == sorted({row[0] for row in good_rows(70)})  # each row written once
    assert Seal.objects.filter(issuer=issuer).count() == 70
    assert SealEvent.objects.filter(issuer=issuer, kind="issued").count() == 70
    assert verify_chain(issuer).ok
    (completed,) = WebhookDelivery.objects.filter(endpoint=hook)
    assert completed.event_type == "import.completed"
    assert completed.payload["data"]["counts"]["created"] == 70
    assert not Message.objects.filter(pk=message.pk).exists()
    assert job.source is None


def test_a_resumed_run_neither_loses_nor_repeats_a_row_error(
    issuer, small_batches, monkeypatch, settings
):
    rows = good_rows(70)
    for number in (3, 25, 30, 60):
        rows[number - 1][4] = "Great Britain"
    job, message = queue(issuer, rows, mode="partial")
    real = die_in_second_award(monkeypatch)
    with pytest.raises(WorkerDied):
        core.run(message.pk)
    # The first batch's error committed with it; the dead batch's went with its transaction.
    assert list(ImportRowError.objects.values_list("row", flat=True)) == [3]
    monkeypatch.setattr(services, "seal_award_many", real)

    assert core.run(message.pk, now=after_lease(settings)) == "done"

    job.refresh_from_db()
    assert (job.state, job.failed, job.error_count) == ("succeeded", 4, 4)
    stored = ImportRowError.objects.filter(job=job).order_by("id")
    assert list(stored.values_list("row", "field", "code")) == [
        (3, "country", "invalid"),
        (25, "country", "invalid"),
        (30, "country", "invalid"),
        (60, "country", "invalid"),
    ]
    assert [e["row"] for e in job.errors] == [3, 25, 30, 60]


def test_a_resumed_run_still_finds_duplicates_of_rows_before_its_cursor(
    issuer, small_batches, monkeypatch, settings
):
    rows = good_rows(70)
    rows[49][0] = rows[4][0]  # row 50 repeats row 5, which the dead run already wrote
    job, message = queue(issuer, rows, mode="partial")
    real = die_in_second_award(monkeypatch)
    with pytest.raises(WorkerDied):
        core.run(message.pk)
    monkeypatch.setattr(services, "seal_award_many", real)

    assert core.run(message.pk, now=after_lease(settings)) == "done"

    job.refresh_from_db()
    assert (job.state, job.created, job.failed) == ("succeeded", 69, 1)
    assert job.errors == [
        {
            "row": 50,
            "field": "external_ref",
            "message": "Duplicate of row 5 in this file.",
            "code": "unique",
        }
    ]


def test_an_all_or_nothing_file_with_a_bad_last_row_writes_nothing_in_any_batch(
    issuer, small_batches
):
    rows = good_rows(70)
    rows[69][4] = "Great Britain"
    job, message = queue(issuer, rows)

    assert core.run(message.pk) == "done"

    job.refresh_from_db()
    assert (job.state, job.phase, job.processed, job.failed) == ("failed", "check", 70, 1)
    assert (job.created, job.updated, job.unchanged) == (0, 0, 0)
    assert not Member.objects.filter(issuer=issuer).exists()


def test_a_job_interrupted_too_often_ends_failed_with_a_reason(issuer, small_batches):
    hook = webhook_endpoint_create(issuer=issuer, url="https://hooks.example/in").endpoint
    job, message = queue(issuer, good_rows(30), mode="partial")
    ImportJob.objects.filter(pk=job.pk).update(
        state="running", attempts=imports.MAX_RUNS, cursor=20, created=20
    )

    assert core.run(message.pk) == "done"

    job.refresh_from_db()
    assert job.state == "failed"
    assert job.reason == (
        "The import was interrupted 5 times before it could finish (20 of 30 rows were "
        "written before it stopped and are kept)."
    )
    assert job.source is None and job.finished_at is not None
    (completed,) = WebhookDelivery.objects.filter(endpoint=hook)
    assert completed.payload["data"]["state"] == "failed"


def test_a_job_whose_file_is_gone_ends_failed_with_a_reason(issuer, small_batches):
    job, message = queue(issuer, good_rows(30))
    ImportJob.objects.filter(pk=job.pk).update(source=None)

    assert core.run(message.pk) == "done"

    job.refresh_from_db()
    assert (job.state, job.reason) == (
        "failed",
        "The uploaded file is no longer stored (nothing was written).",
    )


def test_a_message_whose_job_was_deleted_is_done(issuer, small_batches):
    job, message = queue(issuer, good_rows(30))
    job.delete()

    assert core.run(message.pk) == "done"


def test_a_database_that_goes_away_leaves_the_job_to_be_resumed(issuer, small_batches, monkeypatch):
    from django.db import OperationalError

    job, message = queue(issuer, good_rows(30), mode="partial")

    def gone(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(imports, "_write", gone)
    assert core.run(message.pk) == "failed"  # the outbox's retry, later
    job.refresh_from_db()
    assert (job.state, job.attempts) == ("running", 1)
    assert Message.objects.get(pk=message.pk).due_at > timezone.now()


def test_a_second_run_that_finds_the_cursor_moved_writes_nothing(issuer, small_batches):
    job, _ = queue(issuer, good_rows(30), mode="partial")
    ImportJob.objects.filter(pk=job.pk).update(state="running", attempts=1)
    run = imports._Run.of(
        ImportJob.objects.select_related("issuer").get(pk=job.pk),
        imports.import_source(csv_bytes(good_rows(30))),
        "test",
        None,
    )
    # Another run commits the first batch after this one read the job.
    ImportJob.objects.filter(pk=job.pk).update(cursor=20)

    with pytest.raises(imports._Superseded):
        run.run()

    assert not Member.objects.filter(issuer=issuer).exists()


# --- reading --------------------------------------------------------------------------------


def rows_of(data: bytes, fmt: str) -> list[dict]:
    return list(import_read(source=import_source(data), fmt=fmt))


def test_json_rows_stream_from_a_list_or_a_rows_member_with_or_without_a_bom():
    rows = [{"external_ref": "J-1", "legal_name": "One", "domains": ["one.example"]}]
    as_list = json.dumps(rows).encode()
    wrapped = json.dumps({"mode": "partial", "rows": rows, "dry_run": False}).encode()

    assert rows_of(as_list, "json") == rows
    assert rows_of(b"\xef\xbb\xbf  \n" + as_list, "json") == rows
    assert rows_of(wrapped, "json") == rows
    assert import_count(source=import_source(wrapped), fmt="json") == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The JSON is malformed: it is empty."),
        (b'"rows"', 'The JSON must be a list of row objects (or {"rows": [...]}).'),
        (b'[{"external_ref": "A"}, 7]', "The JSON must be a list of row objects"),
        (b'{"mode": "partial"}', "The file has no data rows."),
        (b'[{"external_ref": "A", "colour": "red"}]', "Unknown column(s): colour."),
    ],
)
def test_json_files_that_cannot_run_are_refused_whole(data, message):
    with pytest.raises(ImportFileError) as refused:
        import_count(source=import_source(data), fmt="json")
    assert message in str(refused.value)


def test_a_malformed_json_file_is_described_without_quoting_it():
    data = b'[{"external_ref": "A", "contact_email": "ada@secret.example"}, {"external_ref": '

    with pytest.raises(ImportFileError) as refused:
        import_count(source=import_source(data), fmt="json")

    assert str(refused.value).startswith("The JSON is malformed: Expecting value: line 1")
    assert "secret" not in str(refused.value)


def test_a_csv_that_is_not_utf8_names_the_offset_of_the_first_bad_byte():
    data = "external_ref,legal_name\n" + "A,Ok\n" * 5000 + "B,Müller\n"

    with pytest.raises(ImportFileError) as refused:
        import_count(source=import_source(data.encode("latin-1")), fmt="csv")

    offset = len("external_ref,legal_name\n" + "A,Ok\n" * 5000 + "B,M")
    assert f"invalid byte at offset {offset}" in str(refused.value)


def test_a_stored_file_is_packed_and_read_back_as_it_was(issuer, small_batches):
    data = csv_bytes(good_rows(500))
    job, _ = queue(issuer, good_rows(500))

    stored = ImportJob.objects.filter(pk=job.pk).values_list("source", flat=True).get()

    assert stored[:2] == b"\x1f\x8b" and len(stored) < len(data) / 3
    assert rows_of(data, "csv") == list(
        import_read(source=imports._stored_source(stored), fmt="csv")
    )
