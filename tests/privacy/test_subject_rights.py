"""Data-subject rights: the one-month clock, the audit trail, export, restriction, erasure."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import time_machine
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from config.errors import InvalidInputError
from issuers.encryption import blind_index
from issuers.models import DataRequest, Member
from privacy import services as privacy
from privacy.unsubscribe import (
    member_id_from_token,
    unsubscribe_headers,
    unsubscribe_token,
    unsubscribe_url,
)
from seals import selectors
from seals.chain import verify_chain
from seals.models import DailyStat, Seal, SealEvent, SealMisuseHostDay, SealStatus
from seals.services import seal_suspend
from tests.factories import MemberFactory, award

pytestmark = pytest.mark.django_db


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- the clock ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("received", "due"),
    [
        (at(2026, 3, 15, 10), at(2026, 4, 15, 10)),
        (at(2026, 1, 31, 9), at(2026, 2, 28, 9)),  # no 31 February: the month's last day
        (at(2028, 1, 31, 9), at(2028, 2, 29, 9)),  # leap year
        (at(2026, 12, 20), at(2027, 1, 20)),
    ],
)
def test_due_date_is_one_calendar_month_later(received, due):
    assert privacy.due_date(received) == due


@time_machine.travel(at(2026, 1, 31, 12), tick=False)
def test_it_records_a_request_with_its_due_date_and_first_audit_entry(issuer):
    member = MemberFactory(issuer=issuer)
    request = privacy.data_request_create(
        issuer=issuer, kind="access", actor="api-key:x", member=member, requester_name="Ada"
    )
    request.refresh_from_db()
    assert request.due_at == at(2026, 2, 28, 12)
    assert request.state == DataRequest.State.RECEIVED
    assert request.audit == [
        {
            "at": "2026-01-31T12:00:00+00:00",
            "actor": "api-key:x",
            "action": "received",
            "state": "received",
        }
    ]


def test_it_refuses_an_unknown_kind_and_another_issuers_member(issuer, other_issuer):
    with pytest.raises(InvalidInputError, match="Unknown kind") as refused:
        privacy.data_request_create(issuer=issuer, kind="deletion", actor="t")
    assert refused.value.field == "kind"
    with pytest.raises(InvalidInputError, match="another issuer"):
        privacy.data_request_create(
            issuer=issuer, kind="access", actor="t", member=MemberFactory(issuer=other_issuer)
        )
    assert not DataRequest.objects.exists()


def test_transitions_append_to_the_audit_trail_and_closed_is_final(issuer):
    request = privacy.data_request_create(issuer=issuer, kind="erasure", actor="a")
    privacy.data_request_transition(data_request=request, state="in_progress", actor="b")
    done = privacy.data_request_transition(
        data_request=request, state="completed", actor="c", outcome="Erased."
    )
    assert done.completed_at is not None
    assert [(e["action"], e.get("to")) for e in done.audit] == [
        ("received", None),
        ("transition", "in_progress"),
        ("transition", "completed"),
    ]
    with pytest.raises(privacy.DataRequestStateError):
        privacy.data_request_transition(data_request=request, state="in_progress", actor="d")


def test_it_refuses_a_rejection_without_reasons(issuer):
    request = privacy.data_request_create(issuer=issuer, kind="erasure", actor="a")
    with pytest.raises(InvalidInputError, match="reasons"):
        privacy.data_request_transition(data_request=request, state="rejected", actor="b")
    request.refresh_from_db()
    assert request.state == DataRequest.State.RECEIVED
    assert len(request.audit) == 1


def test_overdue_is_computed_from_the_clock(issuer):
    with time_machine.travel(at(2026, 3, 1), tick=False):
        request = privacy.data_request_create(issuer=issuer, kind="access", actor="a")
    assert not privacy.data_request_is_overdue(request, at(2026, 4, 1))
    assert privacy.data_request_is_overdue(request, at(2026, 4, 1, 0, 1))
    assert list(privacy.data_requests_overdue(now=at(2026, 4, 2))) == [request]
    privacy.data_request_transition(data_request=request, state="completed", actor="a")
    request.refresh_from_db()
    assert not privacy.data_request_is_overdue(request, at(2026, 4, 2))


# --- export ---------------------------------------------------------------------------------


def test_export_holds_everything_about_the_member_and_nothing_about_others(issuer):
    member = MemberFactory(issuer=issuer, contact_phone="+44 20 7946 0001")
    other = MemberFactory(issuer=issuer, contact_name="Someone Else")
    seal = award(member)
    award(other)
    seal_suspend(seal=seal, reason="Unpaid fee, says Ada", actor="staff")
    DailyStat.objects.create(seal=seal, day=datetime(2026, 1, 1).date(), impressions=5)
    SealMisuseHostDay.objects.create(
        seal=seal, day=datetime(2026, 1, 1).date(), host="copycat.example", hits=3
    )
    privacy.data_request_create(
        issuer=issuer, kind="access", actor="a", member=member, requester_email="ada@x.example"
    )
    document = privacy.member_export(member)
    json.dumps(document)  # JSON-able as it stands
    assert document["member"]["contact"] == {
        "name": "Ada Contact",
        "email": member.contact_email,
        "phone": "+44 20 7946 0001",
    }
    assert [s["id"] for s in document["seals"]] == [seal.public_id]
    assert document["member"]["register_listed"] is None  # the member's register choice
    kinds = [e["kind"] for e in document["seals"][0]["events"]]
    assert kinds == ["issued", "suspended"]
    assert document["seals"][0]["events"][1]["private_data"] == {"reason": "Unpaid fee, says Ada"}
    assert document["statistics"]["daily"][0]["impressions"] == 5
    assert document["statistics"]["misuse_hosts"] == [
        {"seal": seal.public_id, "day": "2026-01-01", "host": "copycat.example", "hits": 3}
    ]
    assert document["data_requests"][0]["requester_email"] == "ada@x.example"
    assert "Someone Else" not in json.dumps(document)


# --- restriction, objection, unsubscribe ------------------------------------------------------


def test_restriction_excludes_from_stats_and_non_essential_mail(issuer):
    member = MemberFactory(issuer=issuer)
    seal = award(member)
    kept = award(MemberFactory(issuer=issuer))
    assert privacy.member_accepts_non_essential_mail(member)
    privacy.member_restrict(member=member, restricted=True, actor="a")
    member.refresh_from_db()
    assert member.restricted
    assert list(selectors.members_excluded_from_stats()) == [member]
    assert selectors.seal_ids_excluded_from_stats([seal.public_id, kept.public_id]) == {
        seal.public_id
    }
    assert not privacy.member_accepts_non_essential_mail(member)
    privacy.member_restrict(member=member, restricted=False, actor="a")
    assert selectors.seal_ids_excluded_from_stats([seal.public_id]) == set()


def test_objection_opts_out_of_marketing_and_is_audited(issuer):
    member = MemberFactory(issuer=issuer)
    request = privacy.data_request_create(issuer=issuer, kind="objection", actor="a", member=member)
    privacy.member_object(member=member, actor="b", data_request=request)
    member.refresh_from_db()
    request.refresh_from_db()
    assert member.marketing_opt_out
    assert request.audit[-1]["action"] == "objection_marketing_opt_out"


def test_unsubscribe_headers_follow_rfc_8058(issuer, settings):
    settings.PUBLIC_BASE_URL = "https://seals.example"
    member = MemberFactory(issuer=issuer)
    headers = unsubscribe_headers(member)
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert headers["List-Unsubscribe"] == f"<{unsubscribe_url(member)}>"
    assert unsubscribe_url(member).startswith("https://seals.example/unsubscribe/")
    assert member_id_from_token(unsubscribe_token(member)) == member.pk
    assert member_id_from_token(unsubscribe_token(member) + "x") is None


def test_one_click_post_unsubscribes_without_cookies_or_csrf(client, issuer):
    member = MemberFactory(issuer=issuer)
    url = f"/unsubscribe/{unsubscribe_token(member)}"
    asked = client.get(url)
    member.refresh_from_db()
    assert asked.status_code == 200 and not member.marketing_opt_out  # GET only asks
    from django.test import Client

    done = Client(enforce_csrf_checks=True).post(
        url, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    member.refresh_from_db()
    assert done.status_code == 200
    assert member.marketing_opt_out
    assert not done.cookies and not asked.cookies


def test_a_forged_unsubscribe_token_changes_nothing(client, issuer):
    member = MemberFactory(issuer=issuer)
    response = client.post(f"/unsubscribe/{unsubscribe_token(member)[:-2]}zz")
    member.refresh_from_db()
    assert response.status_code == 400
    assert not member.marketing_opt_out


# --- rectification --------------------------------------------------------------------------


def test_rectification_updates_the_keyed_hash_and_audits_field_names_only(issuer):
    member = MemberFactory(issuer=issuer)
    request = privacy.data_request_create(
        issuer=issuer, kind="rectification", actor="a", member=member
    )
    privacy.member_rectify(
        member=member,
        changes={"contact_email": "new@member.example"},
        actor="b",
        data_request=request,
    )
    member.refresh_from_db()
    request.refresh_from_db()
    assert member.contact_email == "new@member.example"
    assert member.contact_email_hash == blind_index("NEW@member.example ")
    assert list(privacy.member_contact_lookup(issuer=issuer, email="new@member.example")) == [
        member
    ]
    assert request.audit[-1] == {**request.audit[-1], "action": "rectified"}
    assert "new@member.example" not in json.dumps(request.audit)


def test_it_refuses_to_rectify_flags_or_unknown_fields(issuer):
    member = MemberFactory(issuer=issuer)
    with pytest.raises(InvalidInputError, match="Not rectifiable"):
        privacy.member_rectify(member=member, changes={"restricted": False}, actor="a")


# --- erasure --------------------------------------------------------------------------------


def test_personal_erasure_destroys_contact_and_private_payloads_and_keeps_the_chain(issuer):
    member = MemberFactory(issuer=issuer, contact_phone="+44 20 7946 0002")
    seal = award(member)
    seal_suspend(seal=seal, reason="Called Ada Contact", actor="staff")
    request = privacy.data_request_create(
        issuer=issuer,
        kind="erasure",
        actor="a",
        member=member,
        requester_name="Ada Contact",
        requester_email=member.contact_email,
    )
    report = privacy.member_erase(member=member, corporate=False, actor="b", data_request=request)
    member.refresh_from_db()
    seal.refresh_from_db()
    request.refresh_from_db()
    assert (member.contact_name, member.contact_email, member.contact_phone) == ("", "", "")
    assert member.contact_email_hash == ""
    assert member.erased_at is not None
    assert report.events_erased == 1 and report.seals_revoked == 0
    assert not SealEvent.objects.filter(seal=seal, private_data__isnull=False).exists()
    assert seal.status == SealStatus.SUSPENDED and seal.status_reason == ""
    assert (request.requester_name, request.requester_email) == ("", "")
    assert request.audit[-1]["action"] == "erased"
    assert SealEvent.objects.filter(seal=seal).last().kind == SealEvent.Kind.ERASED
    assert verify_chain(issuer).ok
    assert member.legal_name != privacy.ERASED_PLACEHOLDER


def test_corporate_erasure_revokes_with_reason_erased_and_keeps_the_chain(issuer):
    member = MemberFactory(issuer=issuer, legal_name="Bakery Ada Ltd")
    first, second = award(member), award(member)
    report = privacy.member_erase(member=member, corporate=True, actor="b")
    member.refresh_from_db()
    assert report.seals_revoked == 2
    assert member.legal_name == member.display_name == privacy.ERASED_PLACEHOLDER
    assert member.domains == [] and member.country == ""
    for seal in (first, second):
        seal.refresh_from_db()
        assert seal.status == SealStatus.REVOKED
        assert seal.status_reason == privacy.ERASED_REASON
    assert verify_chain(issuer).ok


@pytest.mark.parametrize("corporate", [False, True])
def test_erasure_deletes_the_misuse_reports_about_the_members_seals(issuer, corporate):
    from seals.misuse import misuse_report_create
    from seals.models import MisuseReport

    member, other = MemberFactory(issuer=issuer), MemberFactory(issuer=issuer)
    seal, kept_seal = award(member), award(other)
    for s in (seal, seal, kept_seal):
        misuse_report_create(
            seal=s,
            site_url="https://copycat.example/",
            site_host="copycat.example",
            message="Not a member.",
            reporter_email="reporter@visitor.example",
        )
    report = privacy.member_erase(member=member, corporate=corporate, actor="a")
    assert report.misuse_reports_deleted == 2
    assert list(MisuseReport.objects.values_list("seal_id", flat=True)) == [kept_seal.pk]


def test_it_refuses_to_erase_twice(issuer):
    member = MemberFactory(issuer=issuer)
    privacy.member_erase(member=member, corporate=False, actor="a")
    with pytest.raises(privacy.MemberErasedError):
        privacy.member_erase(member=member, corporate=True, actor="a")
    member.refresh_from_db()
    assert member.legal_name != privacy.ERASED_PLACEHOLDER


def test_erased_members_are_excluded_from_stats(issuer):
    member = MemberFactory(issuer=issuer)
    seal = award(member)
    privacy.member_erase(member=member, corporate=False, actor="a")
    assert selectors.seal_ids_excluded_from_stats([seal.public_id]) == {seal.public_id}


# --- key rotation ---------------------------------------------------------------------------


def _raw(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608
        return cursor.fetchone()[0]


def test_reencryptfields_moves_every_column_to_the_new_key(issuer, settings):
    old_keys = list(settings.FIELD_ENCRYPTION_KEYS)
    member = MemberFactory(issuer=issuer, contact_name="Ada Rotated")
    new_key = Fernet.generate_key().decode()
    with override_settings(FIELD_ENCRYPTION_KEYS=[new_key, *old_keys]):
        call_command("reencryptfields", stdout=open("/dev/null", "w"))  # noqa: SIM115
        token = _raw(Member._meta.db_table, "contact_name", member.pk)
        assert Fernet(new_key.encode()).decrypt(token.encode()) == b"Ada Rotated"
    with override_settings(FIELD_ENCRYPTION_KEYS=[new_key]):  # the old key removed
        assert Member.objects.get(pk=member.pk).contact_name == "Ada Rotated"


def test_encrypted_contact_columns_hold_no_plaintext(issuer):
    member = MemberFactory(issuer=issuer, contact_name="Ada Plain", contact_phone="+1 555 0100")
    for column in ("contact_name", "contact_email", "contact_phone"):
        raw = _raw(Member._meta.db_table, column, member.pk)
        assert raw and raw.startswith("gAAAA")  # a Fernet token
    assert "Ada Plain" not in _raw(Member._meta.db_table, "contact_name", member.pk)


def test_restricted_member_still_exists_for_seals():
    # Restriction keeps the data: nothing is deleted, only its use stops.
    member = MemberFactory()
    seal = award(member)
    privacy.member_restrict(member=member, restricted=True, actor="a")
    assert Seal.objects.filter(pk=seal.pk).exists()
    assert Member.objects.get(pk=member.pk).contact_name == "Ada Contact"
