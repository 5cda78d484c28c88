"""Members' countries are assigned ISO 3166-1 alpha-2 codes, wherever a member is written."""

from __future__ import annotations

import pytest

from config.errors import InvalidInputError
from issuers.countries import country_code, country_problem
from issuers.models import Member
from issuers.services import member_create
from seals.imports import import_start
from tests.api_support import problem
from tests.factories import IssuerFactory, MemberFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("given", "stored"), [("GB", "GB"), ("de", "DE"), (" fr ", "FR"), ("", "")]
)
def test_assigned_codes_are_stored_upper_case(given, stored):
    assert country_code(given) == stored


@pytest.mark.parametrize("given", ["XX", "ZZ", "UK", "EU", "GBR", "G", "1A", "Great Britain"])
def test_codes_that_are_not_assigned_are_refused(given):
    with pytest.raises(InvalidInputError) as refused:
        country_code(given)
    assert refused.value.field == "country"
    assert repr(given) in str(refused.value)


def test_the_usual_mistake_names_the_right_code():
    assert "the code of that country is GB" in (country_problem("uk") or "")


def test_the_api_refuses_an_unassigned_code_and_creates_nothing(api):
    response = api.post("/members", {"external_ref": "A-1", "legal_name": "A", "country": "UK"})

    assert response.status_code == 400
    [error] = problem(response)["errors"]
    assert error["field"] == "country"
    assert "GB" in error["message"]
    assert not Member.objects.exists()


def test_an_update_to_an_unassigned_code_changes_nothing(api):
    member = MemberFactory(issuer=api.issuer, country="DE")

    response = api.patch(f"/members/{member.pk}", {"country": "ZZ"})

    assert response.status_code == 400
    assert problem(response)["errors"][0]["field"] == "country"
    member.refresh_from_db()
    assert member.country == "DE"


def test_the_service_refuses_what_any_caller_passes():
    with pytest.raises(InvalidInputError):
        member_create(issuer=IssuerFactory(), external_ref="A-1", legal_name="A", country="XX")
    assert not Member.objects.exists()


def test_an_import_row_with_an_unassigned_code_is_a_row_error():
    data = b"external_ref,legal_name,country\nA-1,A,XX\nA-2,B,gb\n"

    _, report = import_start(
        issuer=IssuerFactory(), data=data, fmt="csv", mode="partial", actor="test"
    )

    assert report is not None
    assert [(e["row"], e["field"]) for e in report.errors] == [(1, "country")]
    assert list(Member.objects.values_list("external_ref", "country")) == [("A-2", "GB")]
