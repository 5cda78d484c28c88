"""?q= of the member lists (seals.selectors.member_search_q) on every engine: either name
contains the words, whatever their case and spacing, or the membership number is them; the
stored ``search_names`` the database keeps follows every change of a name."""

from __future__ import annotations

import pytest
from django.utils import timezone

from issuers.models import Member
from seals import selectors
from seals.registry import member_update
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


def _found(issuer, q: str) -> set[str]:
    listed = selectors.members_list(issuer=issuer, filters={"q": q}, now=timezone.now())
    return {m.external_ref for m in listed}


@pytest.fixture
def members(issuer):
    MemberFactory(
        issuer=issuer,
        external_ref="GB-0042",
        legal_name="Baker Two Ltd",
        display_name="Golden Crumb Bakery",
    )
    # "Golden" ends one name and "Crumb" starts the other: no search may join them.
    MemberFactory(
        issuer=issuer,
        external_ref="FR-0007",
        legal_name="Acme Golden",
        display_name="Crumb Shop",
    )
    MemberFactory(
        issuer=issuer,
        external_ref="ZZ-0001",
        legal_name="Acme  Golden  Trust",
        display_name="Trust",
    )
    return issuer


@pytest.mark.parametrize(
    ("q", "refs"),
    [
        ("golden crumb", {"GB-0042"}),
        ("GOLDEN crumb", {"GB-0042"}),
        ("golden  crumb", set()),  # the spaces as they are
        ("acme  golden", {"ZZ-0001"}),
        ("golden\ncrumb", {"GB-0042"}),  # a line break is a space, never the names' seam
        ("crumb", {"GB-0042", "FR-0007"}),
        ("baker two", {"GB-0042"}),  # the legal name
        ("fr-0007", {"FR-0007"}),  # the membership number, any case
        (" FR-0007 ", {"FR-0007"}),
        ("FR-000", set()),  # part of a number is not the number
        ("golden\n", {"GB-0042", "ZZ-0001"}),  # not FR-0007, whose legal name ends "Golden"
    ],
)
def test_search_matches_names_and_numbers(members, q, refs):
    assert _found(members, q) == refs


def test_search_names_follow_every_change_of_a_name(members):
    member = Member.objects.get(issuer=members, external_ref="FR-0007")
    assert member.search_names == "ACME GOLDEN\nCRUMB SHOP"
    member_update(member=member, display_name="Rye Corner", actor="test")
    assert Member.objects.get(pk=member.pk).search_names == "ACME GOLDEN\nRYE CORNER"
    assert _found(members, "rye corner") == {"FR-0007"}
    assert "FR-0007" not in _found(members, "crumb")
    Member.objects.filter(pk=member.pk).update(legal_name="Zeta Holdings")
    assert _found(members, "zeta") == {"FR-0007"}


def test_search_never_reaches_another_issuer(members, other_issuer):
    MemberFactory(issuer=other_issuer, external_ref="GB-0042", display_name="Golden Crumb")
    MemberFactory(issuer=other_issuer, external_ref="XX-1", display_name="Golden Crumb")
    assert _found(members, "golden crumb") == {"GB-0042"}
    listed = selectors.members_list(issuer=members, filters={"q": "xx-1"}, now=timezone.now())
    assert list(listed) == []
