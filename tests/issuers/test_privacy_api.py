"""The privacy API end to end: a member exported, rectified, restricted and erased, with the
database scanned by raw SQL for the personal plaintext after every step."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import time_machine
from django.db import connection

from issuers.models import DataRequest, Member
from seals.chain import verify_chain
from seals.models import Seal, SealStatus
from tests.factories import IssuerFactory, MemberFactory, award
from tests.issuers.api_support import Api, problem

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


def test_a_member_exported_rectified_restricted_and_erased_through_the_api(api):
    personal = (NAME, EMAIL, PHONE)
    created = api.post(
        "/members",
        {
            "external_ref": "ADA-1",
            "legal_name": LEGAL,
            "domains": [DOMAIN],
            "contact_name": NAME,
            "contact_email": EMAIL,
            "contact_phone": PHONE,
        },
        idempotency_key="create-ada-1",
    )
    assert created.status_code == 201, created.content
    member_id = created.json()["id"]
    member = Member.objects.get(pk=member_id)
    seal = award(member)
    assert tables_containing(*personal) == {}

    request = api.post(
        "/data-requests",
        {"kind": "access", "member": member_id, "requester_name": NAME, "requester_email": EMAIL},
    )
    assert request.status_code == 201, request.content
    assert request.json()["overdue"] is False
    assert tables_containing(*personal) == {}

    exported = api.get(f"/members/{member_id}/export")
    assert exported.status_code == 200
    document = exported.json()
    assert document["member"]["contact"] == {"name": NAME, "email": EMAIL, "phone": PHONE}
    assert document["member"]["legal_name"] == LEGAL
    assert [s["id"] for s in document["seals"]] == [seal.public_id]
    assert document["seals"][0]["events"][0]["kind"] == "issued"
    assert document["data_requests"][0]["requester_name"] == NAME
    assert set(document) >= {"member", "seals", "notices", "statistics", "data_requests"}
    assert exported["Cache-Control"] == "no-store"

    rectified = api.patch(
        f"/members/{member_id}", {"contact_name": NEW_NAME, "contact_email": NEW_EMAIL}
    )
    assert rectified.status_code == 200, rectified.content
    assert rectified.json()["contact_email"] == NEW_EMAIL
    assert tables_containing(*personal, NEW_NAME, NEW_EMAIL) == {}

    restricted = api.post(f"/members/{member_id}/restrict", {"restricted": True})
    assert restricted.status_code == 200
    assert restricted.json()["restricted"] is True
    assert tables_containing(*personal, NEW_NAME, NEW_EMAIL) == {}

    erased = api.post(
        f"/members/{member_id}/erase",
        {"corporate": True, "data_request": request.json()["id"]},
        idempotency_key="erase-ada-1",
    )
    assert erased.status_code == 200, erased.content
    assert erased.json()["seals_revoked"] == 1
    # Gone, not hidden: neither the personal nor the corporate plaintext anywhere...
    assert tables_containing(*personal, NEW_NAME, NEW_EMAIL, LEGAL, DOMAIN) == {}
    # ... nor its ciphertext: the encrypted columns are empty.
    member.refresh_from_db()
    assert (member.contact_name, member.contact_email, member.contact_phone) == ("", "", "")
    assert verify_chain(api.issuer).ok
    seal.refresh_from_db()
    assert (seal.status, seal.status_reason) == (SealStatus.REVOKED, "erased")

    page = api.client.get(f"/verify/{seal.public_id}")
    assert page.status_code == 200
    text = page.content.decode()
    assert LEGAL not in text and DOMAIN not in text
    assert "Erased member" in text
    assert "Revoked" in text or "revoked" in text

    again = api.post(f"/members/{member_id}/erase", {"corporate": True})
    assert problem(again)["status"] == 409


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
