"""Bulk import: CSV/JSON upsert by external_ref, per-row errors, modes, dry run, jobs."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from issuers.models import ImportJob, Member
from outbox.models import Message
from seals.chain import verify_chain
from seals.imports import ASYNC_THRESHOLD, import_job_run
from seals.models import Seal, SealEvent
from tests.api_support import problem
from tests.factories import MemberFactory, award

pytestmark = pytest.mark.django_db

THROUGH_2030_01_31 = datetime(2030, 2, 1, tzinfo=UTC)
NOT_A_COUNTRY = (
    "'Great Britain' is not an ISO 3166-1 alpha-2 country code (two letters, such as GB, DE or FR)."
)
HEADER = ["external_ref", "legal_name", "domains", "contact_email", "country", "expires_at"]


def csv_bytes(rows: list[list[str]], *, bom: bool = False, header=HEADER) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    data = out.getvalue().encode()
    return b"\xef\xbb\xbf" + data if bom else data


def good_rows(n: int, start: int = 0) -> list[list[str]]:
    return [
        [f"R-{i:05d}", f"Member {i} Ltd", f"m{i}.example", f"c{i}@m.example", "GB", "2030-01-31"]
        for i in range(start, start + n)
    ]


def post_csv(api, data: bytes, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return api.client.post(
        f"/api/v1/imports{'?' + query if query else ''}", data, content_type="text/csv"
    )


def thousand_with_three_bad() -> bytes:
    rows = good_rows(1000)
    rows[10][3] = "not-an-email"  # row 11
    rows[500][2] = "https://bad.example/path"  # row 501
    rows[998][1] = ""  # row 999
    return csv_bytes(rows, bom=True)


def test_it_refuses_1000_rows_with_3_bad_ones_writing_nothing(api):
    response = post_csv(api, thousand_with_three_bad())

    assert response.status_code == 422
    body = problem(response)
    assert body["code"] == "import_rejected"
    assert "3 of 1000 rows" in body["detail"] and "nothing was written" in body["detail"]
    where = [(e["row"], e["field"]) for e in body["errors"]]
    assert where == [(11, "contact_email"), (501, "domains"), (999, "legal_name")]
    assert all(e["message"] for e in body["errors"])
    assert not Member.objects.filter(issuer=api.issuer).exists()
    assert not Seal.objects.filter(issuer=api.issuer).exists()


def test_partial_mode_keeps_the_997_valid_rows(api):
    response = post_csv(api, thousand_with_three_bad(), mode="partial")

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["created"], body["updated"], body["failed"]) == (997, 0, 3)
    assert body["state"] == "succeeded"
    assert [e["row"] for e in body["errors"]] == [11, 501, 999]
    assert Member.objects.filter(issuer=api.issuer).count() == 997
    assert Seal.objects.filter(issuer=api.issuer).count() == 997
    assert SealEvent.objects.filter(issuer=api.issuer, kind="issued").count() == 997
    assert verify_chain(api.issuer).ok


def test_a_dry_run_reports_without_writing(api):
    MemberFactory(issuer=api.issuer, external_ref="R-00000", legal_name="Old name")
    response = post_csv(api, csv_bytes(good_rows(5)), dry_run="true")

    assert response.status_code == 200
    body = response.json()
    assert (body["created"], body["updated"], body["failed"]) == (4, 1, 0)
    assert Member.objects.filter(issuer=api.issuer).count() == 1
    assert Member.objects.get(issuer=api.issuer).legal_name == "Old name"


def test_it_upserts_by_external_ref_and_renews_or_awards_seals(api):
    member = MemberFactory(issuer=api.issuer, external_ref="R-00000", legal_name="Old name")
    seal = award(member)
    response = post_csv(api, csv_bytes(good_rows(2)))

    assert response.status_code == 201, response.content
    assert (response.json()["created"], response.json()["updated"]) == (1, 1)
    member.refresh_from_db()
    seal.refresh_from_db()
    assert member.legal_name == "Member 0 Ltd"
    assert member.domains == ["m0.example"]
    # Renewed, not a second seal; valid through the whole of the date given (the issuer's UTC).
    assert seal.expires_at == THROUGH_2030_01_31
    assert Seal.objects.filter(member=member).count() == 1
    kinds = list(SealEvent.objects.filter(seal=seal).values_list("kind", flat=True))
    assert kinds == ["issued", "renewed", "details_changed"]
    new = Member.objects.get(issuer=api.issuer, external_ref="R-00001")
    assert new.seals.get().expires_at == THROUGH_2030_01_31
    assert verify_chain(api.issuer).ok


def test_it_accepts_json_rows_with_options_in_the_body(api):
    response = api.post(
        "/imports",
        {
            "mode": "partial",
            "rows": [
                {"external_ref": "J-1", "legal_name": "Json Ltd", "domains": ["JSON.example"]},
                {"external_ref": "J-2"},
            ],
        },
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["created"], body["failed"], body["mode"]) == (1, 1, "partial")
    assert body["errors"] == [
        {"row": 2, "field": "legal_name", "message": "This field is required.", "code": "required"}
    ]
    assert Member.objects.get(external_ref="J-1").domains == ["json.example"]


def test_it_names_unknown_and_missing_columns(api):
    response = post_csv(api, csv_bytes([["x"]], header=["legal_name_typo"]))

    body = problem(response)
    assert response.status_code == 400
    assert "legal_name_typo" in body["detail"]


def test_it_refuses_a_file_that_is_not_utf8(api):
    response = post_csv(api, "external_ref,legal_name\nA,Müller\n".encode("latin-1"))

    assert response.status_code == 400
    assert "UTF-8" in problem(response)["detail"]


def test_it_flags_duplicate_references_within_a_file(api):
    rows = good_rows(2)
    rows[1][0] = rows[0][0]
    response = post_csv(api, csv_bytes(rows))

    body = problem(response)
    assert body["errors"][0]["row"] == 2
    assert "Duplicate of row 1" in body["errors"][0]["message"]


def test_a_large_file_runs_as_a_job_with_progress(api, django_capture_on_commit_callbacks):
    data = csv_bytes(good_rows(ASYNC_THRESHOLD + 50))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = post_csv(api, data)

    assert response.status_code == 202, response.content
    job_id = response.json()["id"]
    assert response["Location"] == f"/api/v1/imports/{job_id}"
    assert response.json()["state"] == "queued"
    assert len(callbacks) == 1  # handed to the broker only after commit
    message = Message.objects.get(topic="import.run")
    assert message.payload == {"job_id": job_id, "actor": f"api-key:{api.new_key.api_key.prefix}"}
    from workers.outbox_tasks import outbox_run

    outbox_run.apply(args=(message.pk,))

    body = api.get(f"/imports/{job_id}").json()
    assert body["state"] == "succeeded"
    assert (body["total"], body["processed"], body["created"], body["failed"]) == (
        1050,
        1050,
        1050,
        0,
    )
    assert Member.objects.filter(issuer=api.issuer).count() == 1050
    assert ImportJob.objects.get(pk=job_id).source is None  # personal data not kept
    assert not Message.objects.filter(topic="import.run").exists()  # done: nothing more owed


def test_a_job_in_all_or_nothing_mode_reports_the_first_100_errors(api):
    rows = good_rows(ASYNC_THRESHOLD + 200)
    for row in rows[:150]:
        row[4] = "Great Britain"
    response = post_csv(api, csv_bytes(rows))
    job_id = response.json()["id"]

    job = import_job_run(job_id=job_id, actor="test")

    assert job.state == "failed"
    assert job.failed == 150
    assert len(job.errors) == 100
    assert job.errors[0] == {
        "row": 1,
        "field": "country",
        "message": NOT_A_COUNTRY,
        "code": "invalid",
    }
    assert not Member.objects.filter(issuer=api.issuer).exists()
    assert import_job_run(job_id=job_id, actor="test").state == "failed"  # runs once only


def test_every_row_error_is_kept_and_listed_page_by_page(api, settings):
    settings.IMPORT_BATCH_ROWS = 100  # errors found over several batches, each stored with it
    rows = good_rows(ASYNC_THRESHOLD + 200)
    for row in rows[:230]:
        row[4] = "Great Britain"
    rows[1100][1] = ""  # one more, far down the file
    job_id = post_csv(api, csv_bytes(rows), dry_run="true").json()["id"]

    import_job_run(job_id=job_id, actor="test")

    body = api.get(f"/imports/{job_id}").json()
    assert (body["failed"], body["error_count"], len(body["errors"])) == (231, 231, 100)
    # The dry run's seal counts, as the console shows them: the valid rows would award.
    assert (body["seals_awarded"], body["seals_renewed"], body["seals_unchanged"]) == (969, 0, 0)
    listed, url = [], f"/api/v1/imports/{job_id}/errors?limit=200"
    while url:
        page = api.client.get(url).json()
        listed += page["results"]
        url = page["next"]
    assert len(listed) == 231
    assert [e["row"] for e in listed] == [*range(1, 231), 1101]
    assert listed[0] == {"row": 1, "field": "country", "message": NOT_A_COUNTRY, "code": "invalid"}
    assert listed[-1]["field"] == "legal_name"
    assert listed[:100] == body["errors"]


def test_the_row_error_list_is_the_callers_own(api, other_api):
    rows = [["R-1", "", "m.example", "c@m.example", "GB", "2030-01-31"]]
    job_id = post_csv(api, csv_bytes(rows)).json()["import_id"]  # the 422 names the job
    assert api.get(f"/imports/{job_id}/errors").json()["results"][0]["field"] == "legal_name"
    assert other_api.get(f"/imports/{job_id}/errors").status_code == 404


def test_another_issuers_import_is_404(api, other_api):
    job_id = post_csv(api, csv_bytes(good_rows(1))).json()["id"]

    assert other_api.get(f"/imports/{job_id}").status_code == 404
    assert other_api.get("/imports").json()["results"] == []


def test_an_import_is_announced_once_to_catch_all_endpoints_and_per_seal_to_listed_ones(api):
    from effects.webhooks import webhook_endpoint_create
    from issuers.models import WebhookDelivery

    everything = webhook_endpoint_create(issuer=api.issuer, url="http://127.0.0.1:9/all").endpoint
    per_seal = webhook_endpoint_create(
        issuer=api.issuer,
        url="http://127.0.0.1:9/seals",
        event_types=["seal.issued", "seal.renewed"],
    ).endpoint
    renewed = award(MemberFactory(issuer=api.issuer, external_ref="R-00000"))
    WebhookDelivery.objects.all().delete()  # the award's own announcement
    response = post_csv(api, csv_bytes(good_rows(3)))

    assert response.status_code == 201
    to_all = WebhookDelivery.objects.filter(endpoint=everything)
    assert [d.event_type for d in to_all] == ["import.completed"]
    assert to_all.get().payload["data"]["counts"]["created"] == 2
    to_listed = WebhookDelivery.objects.filter(endpoint=per_seal)
    assert sorted((d.event_type, d.payload["data"]["member"]) for d in to_listed) == [
        ("seal.issued", "R-00001"),
        ("seal.issued", "R-00002"),
        ("seal.renewed", "R-00000"),
    ]
    assert to_listed.get(event_type="seal.renewed").payload["data"]["seal"] == renewed.public_id
    # The seals' own histories are complete whoever is told.
    assert SealEvent.objects.filter(issuer=api.issuer, kind="issued").count() == 3
    assert SealEvent.objects.filter(seal=renewed, kind="renewed").count() == 1


def test_a_row_naming_an_erased_member_is_refused_and_brings_nothing_back(api):
    erased = MemberFactory(issuer=api.issuer, external_ref="R-00001", contact_email="x@m.example")
    assert api.post(f"/members/{erased.pk}/erase", {"corporate": True}).status_code == 200
    rows = good_rows(3)

    refused = post_csv(api, csv_bytes(rows))
    partial = post_csv(api, csv_bytes(rows), mode="partial")

    assert refused.status_code == 422
    assert [(e["row"], e["field"], e["code"]) for e in problem(refused)["errors"]] == [
        (2, "external_ref", "member_erased")
    ]
    assert partial.json()["created"] == 2
    assert partial.json()["failed"] == 1
    erased.refresh_from_db()
    assert (erased.legal_name, erased.domains, erased.contact_email) == ("Erased member", [], "")
    assert not erased.seals.exclude(status="revoked").exists()


PERSONAL_HEADER = ["external_ref", "legal_name", "contact_name", "contact_email", "contact_phone"]
# Rejected contact values: each row fails on the field that holds it.
REJECTED = {
    "contact_email": "ada.lovelace@bakery-typo",
    "contact_name": "Ada Augusta King Lovelace " * 9,  # over 200 characters
    "contact_phone": "+44 20 7946 0000 ext. " + "1234567890" * 4,  # over 50 characters
}


def personal_rows(n: int) -> list[list[str]]:
    rows = [[f"P-{i:05d}", f"Bakery {i} Ltd", "", f"c{i}@m.example", ""] for i in range(n)]
    rows[0][3] = REJECTED["contact_email"]
    rows[1][2] = REJECTED["contact_name"]
    rows[2][4] = REJECTED["contact_phone"]
    return rows


def import_job_rows_as_text() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {ImportJob._meta.db_table}")  # noqa: S608 - a model's table
        return "\n".join(repr(row) for row in cursor.fetchall())


def test_row_errors_say_what_is_wrong_with_a_contact_without_quoting_it(api):
    response = post_csv(api, csv_bytes(personal_rows(3), header=PERSONAL_HEADER))

    assert response.status_code == 422
    errors = problem(response)["errors"]
    assert [(e["row"], e["field"], e["code"]) for e in errors] == [
        (1, "contact_email", "invalid"),
        (2, "contact_name", "max_length"),
        (3, "contact_phone", "max_length"),
    ]
    assert "after the '@' is not a domain name" in errors[0]["message"]
    stored = import_job_rows_as_text()
    assert ImportJob.objects.filter(issuer=api.issuer).count() == 1
    assert "contact_phone" in stored  # the scan sees the stored errors
    for needle in ("ada.lovelace", "bakery-typo", "Ada Augusta", "7946", "c1@m.example"):
        assert needle not in response.content.decode() and needle not in stored, needle


def test_a_queued_job_stores_no_contact_value_once_it_has_run(api):
    rows = personal_rows(ASYNC_THRESHOLD + 1)
    job_id = post_csv(api, csv_bytes(rows, header=PERSONAL_HEADER)).json()["id"]

    job = import_job_run(job_id=job_id, actor="test")

    assert (job.state, job.failed) == ("failed", 3)
    stored = import_job_rows_as_text()
    assert "contact_phone" in stored
    for needle in ("ada.lovelace", "bakery-typo", "Ada Augusta", "7946", "c1@m.example"):
        assert needle not in stored, needle


def test_other_fields_still_quote_the_rejected_value(api):
    rows = good_rows(1)
    rows[0][4] = "Great Britain"

    errors = problem(post_csv(api, csv_bytes(rows)))["errors"]

    assert errors[0]["message"] == NOT_A_COUNTRY


def test_it_refuses_characters_the_seal_cannot_carry_as_the_api_does(api):
    rows = good_rows(3)
    rows[0][1] = "Evil\x01Co"  # row 1: a control character in the legal name
    rows[1][1] = "Tab\tbed Ltd"  # row 2: names are single lines
    response = post_csv(api, csv_bytes(rows))

    assert response.status_code == 422
    errors = problem(response)["errors"]
    assert [(e["row"], e["field"], e["code"]) for e in errors] == [
        (1, "legal_name", "invalid_character"),
        (2, "legal_name", "invalid_character"),
    ]
    assert "U+0001, at position 5" in errors[0]["message"]
    assert not Member.objects.exists()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_status_polls_are_answered_while_a_large_import_writes(api, settings, monkeypatch):
    """On SQLite one writer at a time: each batch is its own short transaction, so a poll, and
    the write every poll makes here, gets the database between two batches."""
    import threading
    from datetime import timedelta

    from django.db import connection
    from django_scopes import scopes_disabled

    from issuers.api import authentication
    from outbox import core

    settings.IMPORT_BATCH_ROWS = 200
    # Every poll writes too (the key's last use), so it queues for the write lock.
    monkeypatch.setattr(authentication, "LAST_USED_RESOLUTION", timedelta(0))
    total = ASYNC_THRESHOLD + 999
    monkeypatch.setattr(core, "enqueue", lambda *args, **kwargs: None)  # this test runs the job
    response = post_csv(api, csv_bytes(good_rows(total)), mode="partial")
    job_id = response.json()["id"]
    failures: list[BaseException] = []

    def run() -> None:
        try:
            with scopes_disabled():  # a thread of its own starts with no scope
                import_job_run(job_id=job_id, actor="test")
        except BaseException as exc:  # reported by the test thread
            failures.append(exc)
        finally:
            connection.close()

    worker = threading.Thread(target=run)
    worker.start()
    polls = []
    while worker.is_alive() or not polls:
        answer = api.get(f"/imports/{job_id}")
        polls.append((answer.status_code, answer.json()))
    worker.join()

    assert not failures, failures
    assert [code for code, _ in polls if code >= 500] == []
    # Polls landed between batches: progress was seen while the import ran, not only at its end.
    seen = {body["created"] for _, body in polls if body["state"] == "running"}
    assert len(seen - {0}) >= 2, seen
    assert api.get(f"/imports/{job_id}").json()["created"] == total
