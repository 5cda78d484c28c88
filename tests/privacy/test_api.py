"""The privacy API end to end: a member exported, rectified, restricted and erased, with the
database scanned by raw SQL for the personal plaintext after every step."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.db import connection

from issuers.models import DataRequest, Member, WebhookEndpoint
from seals.chain import verify_chain
from seals.models import Notice, Seal, SealStatus
from tests.api_support import Api, problem
from tests.factories import IssuerFactory, MemberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(db) -> Api:
    return Api(IssuerFactory(public_email="office@issuer.example"))


@pytest.fixture
def other_api(db) -> Api:
    return Api(IssuerFactory())


NAME = "Ada Lovelace-Byron"
EMAIL = "ada.lovelace@bakery-ada.example"
PHONE = "+44 20 7946 0958"
NEW_NAME = "Augusta Ada King"
NEW_EMAIL = "augusta.king@bakery-ada.example"
LEGAL = "Analytical Bakery Lovelace Ltd"
DOMAIN = "analytical-bakery.example"
REASON = "Hygiene audit 2026-Q1 outstanding"


def _cells(value: object) -> str:
    if isinstance(value, memoryview):
        value = value.tobytes()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return "" if value is None else str(value)


def tables_containing(*needles: str) -> dict[str, list[str]]:
    """Every column of every table, read with raw SQL: where does any needle appear?"""
    found: dict[str, list[str]] = {}
    lowered = [n.casefold() for n in needles]
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            columns = [c[0] for c in cursor.description]
            for row in cursor.fetchall():
                for column, value in zip(columns, row, strict=True):
                    text = _cells(value).casefold()
                    hits = [n for n in lowered if n in text]
                    if hits:
                        found.setdefault(f"{table}.{column}", []).extend(hits)
    return found


def test_scanner_finds_plaintext_where_it_is(issuer):
    # The scan itself must be able to fail: a plain column is found.
    MemberFactory(issuer=issuer, legal_name=LEGAL)
    assert "issuers_member.legal_name" in tables_containing(LEGAL)


DISPLAY = "Lovelace Loaves"
START = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # the request is due on 2 April 2026, 10:00


PERSONAL = (NAME, EMAIL, PHONE)
CORPORATE = (LEGAL, DISPLAY, DOMAIN)
# Everything the member ever was: after an erasure none of it may be left anywhere.
FORMER = (*PERSONAL, NEW_NAME, NEW_EMAIL, *CORPORATE, REASON)


@dataclass(frozen=True)
class Ada:
    member_id: int
    seal: Seal


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def daily_job(monkeypatch):
    """The privacy job as beat runs it, without another run's lock in the way."""
    from workers.privacy_tasks import privacy_daily

    monkeypatch.setattr("workers.locks.beat_lock", lambda name, *, interval: True)
    return privacy_daily.apply


@pytest.fixture
def ada(api, clock) -> Ada:
    """A member with a contact person and a seal that was suspended and reinstated (the reason
    is private history). Webhook deliveries are stored too, so an endpoint listens."""
    WebhookEndpoint.objects.create(issuer=api.issuer, url="https://hooks.example/in", secret="s")
    created = api.post(
        "/members",
        {
            "external_ref": "ADA-1",
            "legal_name": LEGAL,
            "display_name": DISPLAY,
            "domains": [DOMAIN],
            "country": "GB",
            "contact_name": NAME,
            "contact_email": EMAIL,
            "contact_phone": PHONE,
        },
        idempotency_key="create-ada-1",
    )
    assert created.status_code == 201, created.content
    member_id = created.json()["id"]
    awarded = api.post(
        "/seals", {"member": member_id, "expires_at": (START + timedelta(days=20)).isoformat()}
    )
    assert awarded.status_code == 201, awarded.content
    seal = Seal.objects.get(public_id=awarded.json()["id"])
    suspended = api.post(f"/seals/{seal.public_id}/suspend", {"reason": REASON})
    assert suspended.status_code == 200, suspended.content
    reinstated = api.post(f"/seals/{seal.public_id}/reinstate", {"reason": "Audit passed"})
    assert reinstated.status_code == 200, reinstated.content
    return Ada(member_id=member_id, seal=seal)


@pytest.fixture
def erasure_request(api, ada) -> int:
    request = api.post(
        "/data-requests",
        {
            "kind": "erasure",
            "member": ada.member_id,
            "requester_name": NAME,
            "requester_email": EMAIL,
        },
    )
    assert request.status_code == 201, request.content
    return request.json()["id"]


def _view_and_notify(api: Api, seal: Seal) -> None:
    """Counted views and a sent expiry notice: data in every section of an export."""
    from effects.notices import notice_send, notices_plan
    from seals.stats import flush_counts

    assert api.client.get(f"/s/{seal.public_id}.svg").status_code == 200
    assert api.client.get(f"/verify/{seal.public_id}").status_code == 200
    assert flush_counts(now=START) >= 1
    notices_plan(now=START)
    notice = Notice.objects.get(seal=seal)
    assert notice_send(notice_id=notice.pk, now=START).state == "sent"
    assert mail.outbox[-1].to == [EMAIL]
    mail.outbox.clear()


def _rectify(api: Api, member_id: int):
    return api.patch(
        f"/members/{member_id}", {"contact_name": NEW_NAME, "contact_email": NEW_EMAIL}
    )


def _restrict(api: Api, member_id: int, request_id: int):
    return api.post(
        f"/members/{member_id}/restrict", {"restricted": True, "data_request": request_id}
    )


@pytest.fixture
def erased(api, ada, erasure_request, django_capture_on_commit_callbacks) -> Ada:
    """Ada after a whole life (views, a notice, a rectification, a restriction) erased with
    her corporate data, and the erasure request completed."""
    _view_and_notify(api, ada.seal)
    assert _rectify(api, ada.member_id).status_code == 200
    assert _restrict(api, ada.member_id, erasure_request).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        erased = api.post(
            f"/members/{ada.member_id}/erase",
            {"corporate": True, "data_request": erasure_request},
            idempotency_key="erase-ada-1",
        )
    assert erased.status_code == 200, erased.content
    assert erased.json()["seals_revoked"] == 1
    done = api.post(
        f"/data-requests/{erasure_request}/transition",
        {"state": "completed", "outcome": "Erased, corporate data included."},
    )
    assert done.status_code == 200, done.content
    return ada


def test_the_contact_person_is_stored_encrypted_only(ada):
    assert tables_containing(*PERSONAL) == {}


def test_an_erasure_request_is_due_a_calendar_month_later_and_its_requester_is_encrypted(
    api, erasure_request
):
    answer = api.get(f"/data-requests/{erasure_request}").json()
    assert (answer["due_at"], answer["overdue"]) == ("2026-04-02T10:00:00Z", False)
    assert tables_containing(*PERSONAL) == {}


@pytest.mark.usefixtures("fresh_stat_counters")
def test_the_export_holds_everything_kept_about_the_member(api, ada, erasure_request):
    _view_and_notify(api, ada.seal)
    exported = api.get(f"/members/{ada.member_id}/export")
    assert exported.status_code == 200
    assert exported["Cache-Control"] == "no-store"
    document = exported.json()
    assert set(document) == {
        "format",
        "generated_at",
        "issuer",
        "member",
        "seals",
        "notices",
        "statistics",
        "data_requests",
        "announcements",
    }
    member = document["member"]
    assert member["contact"] == {"name": NAME, "email": EMAIL, "phone": PHONE}
    assert (member["legal_name"], member["display_name"]) == (LEGAL, DISPLAY)
    assert member["domains"] == [DOMAIN]
    [exported_seal] = document["seals"]
    assert exported_seal["id"] == ada.seal.public_id
    assert [e["kind"] for e in exported_seal["events"]] == ["issued", "suspended", "reinstated"]
    assert exported_seal["events"][1]["private_data"] == {"reason": REASON}
    assert [(n["kind"], n["state"]) for n in document["notices"]] == [("expiry_30d", "sent")]
    [daily] = document["statistics"]["daily"]
    assert (daily["impressions"], daily["verification_views"]) == (1, 1)
    assert document["statistics"]["monthly"] == []
    [exported_request] = document["data_requests"]
    assert (exported_request["requester_name"], exported_request["requester_email"]) == (
        NAME,
        EMAIL,
    )
    # Exporting writes nothing readable either.
    assert tables_containing(*PERSONAL) == {}


def test_rectification_replaces_the_contact_and_stores_neither_value_readably(api, ada):
    rectified = _rectify(api, ada.member_id)
    assert rectified.status_code == 200, rectified.content
    assert rectified.json()["contact_email"] == NEW_EMAIL
    assert tables_containing(*PERSONAL, NEW_NAME, NEW_EMAIL) == {}


def test_a_restriction_is_recorded_against_the_request_that_asked_for_it(api, ada, erasure_request):
    restricted = _restrict(api, ada.member_id, erasure_request)
    assert restricted.status_code == 200
    assert restricted.json()["restricted"] is True
    audit = DataRequest.objects.get(pk=erasure_request).audit
    assert [e["action"] for e in audit] == ["received", "restricted"]
    assert tables_containing(*PERSONAL) == {}


def test_the_daily_job_reminds_the_issuer_a_week_before_and_on_the_due_date_only_once_each(
    erasure_request, clock, daily_job
):
    for moment in (
        datetime(2026, 3, 26, 0, 30, tzinfo=UTC),  # seven days before the due date
        datetime(2026, 3, 26, 6, 30, tzinfo=UTC),  # the same day again: no second reminder
        datetime(2026, 4, 2, 0, 30, tzinfo=UTC),  # the due date
    ):
        clock.move_to(moment)
        daily_job()
    assert [(m.to, m.subject) for m in mail.outbox] == [
        (["office@issuer.example"], f"Data request {erasure_request} is due in 7 days"),
        (["office@issuer.example"], f"Data request {erasure_request} is due today"),
    ]
    # The issuer is reminded of the request, never told who made it.
    for message in mail.outbox:
        assert not any(n in message.body for n in PERSONAL)
    assert tables_containing(*PERSONAL) == {}


def test_an_erasure_leaves_neither_plaintext_nor_ciphertext_and_the_history_still_verifies(
    api, erased
):
    # Gone, not hidden: no plaintext anywhere, personal or corporate, nor the reason...
    assert tables_containing(*FORMER) == {}
    # ... nor its ciphertext: the encrypted columns are empty.
    member = Member.objects.get(pk=erased.member_id)
    assert (member.contact_name, member.contact_email, member.contact_phone) == ("", "", "")
    assert verify_chain(api.issuer).ok
    seal = Seal.objects.get(pk=erased.seal.pk)
    assert (seal.status, seal.status_reason) == (SealStatus.REVOKED, "erased")


def test_the_erasure_request_records_each_step_taken_for_it(erased, erasure_request):
    audit = DataRequest.objects.get(pk=erasure_request).audit
    assert [e["action"] for e in audit] == ["received", "restricted", "erased", "transition"]


def test_after_an_erasure_the_public_side_says_only_that_the_seal_is_no_longer_valid(api, erased):
    public_id = erased.seal.public_id
    page = api.client.get(f"/verify/{public_id}")
    assert page.status_code == 200
    text = page.content.decode()
    assert "This seal is no longer valid." in text
    assert not any(n.casefold() in text.casefold() for n in FORMER)
    assert api.issuer.name not in text and "Erased member" not in text
    answer = api.client.get(f"/verify/{public_id}.json").json()
    assert (answer["status"], answer["member"], answer["history"]) == ("revoked", None, [])
    assert "No longer valid" in api.client.get(f"/s/{public_id}.svg").content.decode()


def test_an_erased_member_is_erased_once_and_its_closed_request_is_never_reminded(
    api, erased, erasure_request, clock, daily_job
):
    again = api.post(f"/members/{erased.member_id}/erase", {"corporate": True})
    assert problem(again)["status"] == 409
    clock.move_to(datetime(2026, 4, 2, 0, 30, tzinfo=UTC))  # the due date: no reminder
    daily_job()
    clock.move_to(datetime(2026, 4, 3, 0, 30, tzinfo=UTC))  # past it: never flagged overdue
    daily_job()
    assert mail.outbox == []
    assert api.get(f"/data-requests/{erasure_request}").json()["overdue"] is False


def test_another_issuers_member_is_a_404_for_every_privacy_endpoint(api, other_api):
    theirs = MemberFactory(issuer=other_api.issuer)
    assert api.get(f"/members/{theirs.pk}/export").status_code == 404
    for action in ("erase", "restrict", "object"):
        assert problem(api.post(f"/members/{theirs.pk}/{action}", {}))["status"] == 404
    created = api.post("/data-requests", {"kind": "access", "member": theirs.pk})
    assert problem(created)["status"] == 400
    their_request = other_api.post("/data-requests", {"kind": "access"}).json()
    assert api.get(f"/data-requests/{their_request['id']}").status_code == 404
    theirs.refresh_from_db()
    assert theirs.erased_at is None


def test_overdue_requests_are_flagged_and_filterable(api):
    with time_machine.travel(datetime(2026, 1, 10, tzinfo=UTC), tick=False):
        first = api.post("/data-requests", {"kind": "erasure"}).json()
    with time_machine.travel(datetime(2026, 2, 1, tzinfo=UTC), tick=False):
        api.post("/data-requests", {"kind": "access"})
    with time_machine.travel(datetime(2026, 2, 11, tzinfo=UTC), tick=False):
        assert api.get(f"/data-requests/{first['id']}").json()["overdue"] is True
        listed = api.get("/data-requests", overdue="true").json()["results"]
        assert [r["id"] for r in listed] == [first["id"]]
        assert len(api.get("/data-requests", overdue="false").json()["results"]) == 1


def test_transitions_through_the_api_and_a_closed_request_is_a_409(api):
    created = api.post("/data-requests", {"kind": "portability"}).json()
    assert created["due_at"]
    url = f"/data-requests/{created['id']}/transition"
    rejected = api.post(url, {"state": "rejected"})
    assert problem(rejected)["status"] == 400
    done = api.post(url, {"state": "completed", "outcome": "Export sent."})
    assert done.json()["state"] == "completed"
    assert problem(api.post(url, {"state": "in_progress"}))["status"] == 409
    stored = DataRequest.objects.get(pk=created["id"])
    assert [e["action"] for e in stored.audit] == ["received", "transition"]


def test_objection_through_the_api(api):
    member = MemberFactory(issuer=api.issuer)
    answer = api.post(f"/members/{member.pk}/object", {})
    assert answer.status_code == 200
    assert answer.json()["marketing_opt_out"] is True
    assert json.loads(answer.content)["restricted"] is False
    assert Seal.objects.count() == 0


@pytest.mark.parametrize("corporate", [True, False])
def test_an_erased_member_can_no_longer_be_changed_or_awarded(api, corporate):
    member = MemberFactory(issuer=api.issuer, contact_email=EMAIL)
    assert api.post(f"/members/{member.pk}/erase", {"corporate": corporate}).status_code == 200

    patched = api.patch(f"/members/{member.pk}", {"contact_email": NEW_EMAIL})
    awarded = api.post("/seals", {"member": member.pk})

    for response in (patched, awarded):
        assert response.status_code == 409, response.content
        assert problem(response)["code"] == "member_erased"
    member.refresh_from_db()
    assert member.contact_email == ""
    assert not member.seals.exists()
