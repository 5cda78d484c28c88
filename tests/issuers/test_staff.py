"""An issuer's staff: invitations (hashed, 72 h, once, for the invited address), roles, and the
rule that an issuer always keeps an owner."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.utils import timezone

from config.errors import ConflictError, InvalidInputError
from issuers.models import AuditEntry, Invitation, StaffMember, StaffRole
from issuers.staff import (
    INVITATION_VALID,
    InvitationError,
    LastOwnerError,
    invitation_accept,
    staff_change_role,
    staff_invite,
    staff_of,
    staff_remove,
    staff_user_create,
)
from tests.factories import IssuerFactory

pytestmark = pytest.mark.django_db


def user(email: str):
    return get_user_model().objects.create_user(username=email, email=email, password="pw")


@pytest.fixture
def issuer():
    return IssuerFactory()


@pytest.fixture
def owner(issuer) -> StaffMember:
    return staff_user_create(issuer=issuer, email="owner@a.example", password="pw")


def test_an_invitation_stores_only_the_hash_of_its_token(issuer, owner):
    new = staff_invite(
        issuer=issuer,
        email=" Ada@Example.ORG ",
        role="manager",
        invited_by=owner.user,
        actor="test",
    )
    stored = Invitation.objects.get()
    assert stored.email == "ada@example.org"
    assert stored.token_hash == hashlib.sha256(new.token.encode()).hexdigest()
    assert new.token not in str(Invitation.objects.values().get())
    assert stored.expires_at - stored.created_at == INVITATION_VALID == timedelta(hours=72)


def test_accepting_makes_the_invited_person_staff_in_the_role_once(issuer, owner):
    new = staff_invite(
        issuer=issuer, email="ada@example.org", role="manager", invited_by=None, actor="test"
    )
    ada = user("ada@example.org")
    staff = invitation_accept(token=new.token, user=ada)
    assert (staff.issuer_id, staff.role) == (issuer.pk, StaffRole.MANAGER)
    assert staff_of(ada) == staff
    joined = AuditEntry.objects.filter(issuer=issuer).order_by("id").values_list("action", "actor")
    assert list(joined) == [("staff.invited", "test"), ("staff.joined", f"staff:{ada.pk}")]
    with pytest.raises(InvitationError, match="already been accepted"):
        invitation_accept(token=new.token, user=ada)
    assert StaffMember.objects.filter(user=ada).count() == 1


def test_an_invitation_expires_after_72_hours(issuer):
    new = staff_invite(
        issuer=issuer, email="ada@example.org", role="viewer", invited_by=None, actor="test"
    )
    ada = user("ada@example.org")
    later = timezone.now() + timedelta(hours=72, seconds=1)
    with time_machine.travel(later), pytest.raises(InvitationError, match="expired"):
        invitation_accept(token=new.token, user=ada)
    assert not StaffMember.objects.filter(user=ada).exists()


def test_a_forwarded_link_does_not_let_another_address_in(issuer):
    new = staff_invite(
        issuer=issuer, email="ada@example.org", role="owner", invited_by=None, actor="test"
    )
    mallory = user("mallory@example.org")
    with pytest.raises(InvitationError, match=r"for ada@example\.org"):
        invitation_accept(token=new.token, user=mallory)
    assert not StaffMember.objects.filter(user=mallory).exists()
    assert Invitation.objects.get().accepted_at is None


def test_an_unknown_token_is_refused(issuer):
    with pytest.raises(InvitationError, match="not valid"):
        invitation_accept(token="forged", user=user("ada@example.org"))


def test_a_new_invitation_replaces_the_open_one(issuer):
    first = staff_invite(
        issuer=issuer, email="ada@example.org", role="viewer", invited_by=None, actor="test"
    )
    staff_invite(
        issuer=issuer, email="ada@example.org", role="manager", invited_by=None, actor="test"
    )
    assert Invitation.objects.count() == 1
    with pytest.raises(InvitationError):
        invitation_accept(token=first.token, user=user("ada@example.org"))


def test_one_issuer_per_person(issuer, owner):
    other = IssuerFactory()
    with pytest.raises(ConflictError, match="another issuer"):
        staff_invite(
            issuer=other, email="owner@a.example", role="viewer", invited_by=None, actor="test"
        )
    assert not Invitation.objects.exists()


def test_bad_input_is_refused_and_changes_nothing(issuer):
    with pytest.raises(InvalidInputError, match="valid e-mail"):
        staff_invite(
            issuer=issuer, email="not an address", role="viewer", invited_by=None, actor="test"
        )
    with pytest.raises(InvalidInputError, match="Unknown role"):
        staff_invite(
            issuer=issuer, email="ada@example.org", role="admin", invited_by=None, actor="test"
        )
    assert not Invitation.objects.exists()


def test_the_last_owner_can_neither_leave_nor_be_demoted(issuer, owner):
    with pytest.raises(LastOwnerError):
        staff_remove(staff=owner, actor="test")
    with pytest.raises(LastOwnerError):
        staff_change_role(staff=owner, role="manager", actor="test")
    owner.refresh_from_db()
    assert owner.role == StaffRole.OWNER


def test_with_a_second_owner_the_first_may_step_down(issuer, owner):
    second = staff_user_create(issuer=issuer, email="second@a.example", password="pw")
    staff_change_role(staff=owner, role="viewer", actor="test")
    owner.refresh_from_db()
    assert owner.role == StaffRole.VIEWER
    with pytest.raises(LastOwnerError):
        staff_remove(staff=second, actor="test")
    staff_remove(staff=owner, actor="test")
    assert list(StaffMember.objects.all()) == [second]


def test_owners_of_another_issuer_do_not_count(issuer, owner):
    staff_user_create(issuer=IssuerFactory(), email="owner@b.example", password="pw")
    with pytest.raises(LastOwnerError):
        staff_remove(staff=owner, actor="test")


def test_roles_include_the_ones_below(issuer, owner):
    viewer = staff_user_create(issuer=issuer, email="v@a.example", password="pw", role="viewer")
    assert owner.can("manager") and owner.can("viewer")
    assert viewer.can("viewer") and not viewer.can("manager")
