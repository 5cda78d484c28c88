"""A date without a time is a whole day where the issuer is: an expiry of 2027-12-31 holds to the
end of that day in the issuer's time zone, a start date begins with it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from issuers.dates import end_of, start_of
from issuers.models import Issuer, Member
from seals.imports import import_start
from seals.models import Seal
from seals.status import effective_status
from tests.api_support import problem
from tests.factories import MemberFactory, award

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")


def test_a_day_ends_at_the_next_midnight_of_its_zone():
    assert end_of(date(2027, 12, 31), BERLIN) == datetime(2027, 12, 31, 23, tzinfo=UTC)
    assert start_of(date(2027, 7, 1), BERLIN) == datetime(2027, 6, 30, 22, tzinfo=UTC)
    moment = datetime(2027, 12, 31, 12, tzinfo=UTC)
    assert end_of(moment, BERLIN) == start_of(moment, BERLIN) == moment  # an instant stays


def test_an_expiry_date_holds_through_that_day_in_the_issuers_zone(api):
    Issuer.objects.filter(pk=api.issuer.pk).update(time_zone="Europe/Berlin")
    member = MemberFactory(issuer=api.issuer)

    response = api.post("/seals", {"member": member.pk, "expires_at": "2027-12-31"})

    assert response.status_code == 201, response.content
    seal = Seal.objects.get(public_id=response.json()["id"])
    assert seal.expires_at == datetime(2027, 12, 31, 23, tzinfo=UTC)
    assert effective_status(seal, datetime(2027, 12, 31, 22, 59, tzinfo=UTC)) == "active"
    assert effective_status(seal, datetime(2027, 12, 31, 23, tzinfo=UTC)) == "expired"


def test_a_start_date_begins_with_that_day_in_the_issuers_zone(api):
    Issuer.objects.filter(pk=api.issuer.pk).update(time_zone="Asia/Tokyo")
    member = MemberFactory(issuer=api.issuer)

    response = api.post(
        "/seals", {"member": member.pk, "valid_from": "2030-01-01", "expires_at": "2030-12-31"}
    )

    seal = Seal.objects.get(public_id=response.json()["id"])
    assert seal.valid_from == datetime(2029, 12, 31, 15, tzinfo=UTC)
    assert seal.expires_at == datetime(2030, 12, 31, 15, tzinfo=UTC)


def test_a_renewal_to_a_date_holds_through_that_day(api):
    seal = award(MemberFactory(issuer=api.issuer))

    response = api.post(
        f"/seals/{seal.public_id}/renew", {"expires_at": "2031-03-31", "reason": "Paid"}
    )

    assert response.status_code == 200, response.content
    seal.refresh_from_db()
    assert seal.expires_at == datetime(2031, 4, 1, tzinfo=UTC)  # the default zone is UTC


def test_a_date_time_is_taken_as_the_instant_it_names(api):
    Issuer.objects.filter(pk=api.issuer.pk).update(time_zone="Europe/Berlin")
    member = MemberFactory(issuer=api.issuer)

    response = api.post("/seals", {"member": member.pk, "expires_at": "2027-12-31T00:00:00Z"})

    assert Seal.objects.get(public_id=response.json()["id"]).expires_at == datetime(
        2027, 12, 31, tzinfo=UTC
    )


def test_an_impossible_date_is_a_field_error(api):
    member = MemberFactory(issuer=api.issuer)

    response = api.post("/seals", {"member": member.pk, "expires_at": "2027-02-30"})

    assert response.status_code == 400
    assert problem(response)["errors"][0]["field"] == "expires_at"
    assert not Seal.objects.exists()


def test_an_import_reads_dates_in_the_issuers_zone(api):
    Issuer.objects.filter(pk=api.issuer.pk).update(time_zone="America/New_York")
    data = b"external_ref,legal_name,expires_at\nA-1,A,2028-06-30\n"

    import_start(issuer=Issuer.objects.get(pk=api.issuer.pk), data=data, fmt="csv", actor="t")

    seal = Member.objects.get(external_ref="A-1").seals.get()
    assert seal.expires_at == datetime(2028, 7, 1, 4, tzinfo=UTC)  # midnight EDT


def test_the_issuer_sets_its_zone_and_an_unknown_one_changes_nothing(api):
    assert api.get("/issuer").json()["time_zone"] == "UTC"

    refused = api.patch("/issuer", {"time_zone": "Mars/Olympus_Mons"})
    accepted = api.patch("/issuer", {"time_zone": "Europe/Lisbon"})

    assert refused.status_code == 400
    assert problem(refused)["errors"][0]["field"] == "time_zone"
    assert accepted.status_code == 200, accepted.content
    assert Issuer.objects.get(pk=api.issuer.pk).time_zone == "Europe/Lisbon"


def test_the_last_day_of_the_calendar_is_a_field_error_not_a_crash(api):
    member = MemberFactory(issuer=api.issuer)

    response = api.post("/seals", {"member": member.pk, "expires_at": "9999-12-31"})

    assert response.status_code == 400
    assert problem(response)["errors"][0]["field"] == "expires_at"
