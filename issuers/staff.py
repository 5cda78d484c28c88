"""Rules for an issuer's staff: who works in its console, in which role, and how they join.

A person joins by invitation only: an owner invites an e-mail address in a role, the link carries
a random token (stored as its SHA-256, like API keys), valid for ``INVITATION_VALID``, used once.
Every issuer keeps at least one owner: removing or demoting the last one is refused, under a
lock on the issuer's owner rows so two concurrent changes cannot both pass the check.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from config.errors import ConflictError, InvalidInputError
from config.tenancy import scopes_disabled
from issuers.models import AuditEntry, Invitation, Issuer, StaffMember, StaffRole

if TYPE_CHECKING:  # the default user model, which the console's accounts are
    from django.contrib.auth.models import User

INVITATION_VALID = timedelta(hours=72)


class LastOwnerError(ConflictError):
    """The change would leave the issuer without an owner."""

    code = "last_owner"


class InvitationError(InvalidInputError):
    """The invitation link is unknown, used, expired or meant for another address."""


@dataclass(frozen=True)
class NewInvitation:
    invitation: Invitation
    token: str  # goes into the e-mailed link, never stored


def audit_record(
    *, issuer: Issuer | int, actor: str, action: str, target: str = "", data: dict | None = None
) -> AuditEntry:
    """One line of the issuer's account log: who did what to which staff, key or webhook."""
    issuer_id = issuer if isinstance(issuer, int) else issuer.pk
    return AuditEntry.objects.create(
        issuer_id=issuer_id, actor=actor, action=action, target=target[:300], data=data or {}
    )


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _role(role: str) -> StaffRole:
    try:
        return StaffRole(role)
    except ValueError:
        raise InvalidInputError(
            "role", f"Unknown role {role!r}; one of {', '.join(StaffRole.values)}."
        ) from None


def staff_of(user: User | None) -> StaffMember | None:
    """The staff record of a signed-in user, with its issuer; None for anyone else. Read before
    any issuer scope exists (it decides which scope to open), so scopes are off for this one
    query, which is keyed by the user."""
    if user is None or not user.is_authenticated:
        return None
    with scopes_disabled():
        return StaffMember.objects.select_related("issuer").filter(user=user).first()


def _normalise_email(email: str) -> str:
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidInputError("email", "Enter a valid e-mail address.") from None
    return email


@transaction.atomic
def staff_invite(
    *,
    issuer: Issuer,
    email: str,
    role: str,
    invited_by: User | None,
    actor: str,
    now: datetime | None = None,
) -> NewInvitation:
    """Invite ``email`` as ``role``; an earlier open invitation of the same address to this
    issuer is withdrawn, so only the newest link works."""
    email = _normalise_email(email)
    role = _role(role)
    with scopes_disabled():  # one issuer per person: look across issuers
        taken = StaffMember.objects.filter(user__email__iexact=email).first()
    if taken is not None:
        where = "this issuer" if taken.issuer_id == issuer.pk else "another issuer"
        raise ConflictError(f"{email} already works for {where}; one issuer per person.")
    now = now or timezone.now()
    Invitation.objects.filter(issuer=issuer, email=email, accepted_at__isnull=True).delete()
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        issuer=issuer,
        email=email,
        role=role,
        token_hash=_hash_token(token),
        invited_by=invited_by,
        created_at=now,
        expires_at=now + INVITATION_VALID,
    )
    audit_record(
        issuer=issuer, actor=actor, action="staff.invited", target=email, data={"role": role}
    )
    return NewInvitation(invitation=invitation, token=token)


def invitation_for_token(token: str, *, now: datetime | None = None) -> Invitation:
    """The open invitation a link's token names (any issuer: the token is the credential).
    Raises InvitationError when it is unknown, already used or expired."""
    now = now or timezone.now()
    with scopes_disabled():
        invitation = (
            Invitation.objects.select_related("issuer")
            .filter(token_hash=_hash_token(token or ""))
            .first()
        )
    if invitation is None:
        raise InvitationError(None, "This invitation link is not valid.")
    if invitation.accepted_at is not None:
        raise InvitationError(None, "This invitation has already been accepted.")
    if invitation.expires_at <= now:
        raise InvitationError(
            None, "This invitation has expired; ask the issuer's owner for a new one."
        )
    return invitation


@transaction.atomic
def invitation_accept(*, token: str, user: User, now: datetime | None = None) -> StaffMember:
    """Make ``user`` staff of the invitation's issuer in its role.

    Steps: (1) find the open invitation and lock it, so a link used twice at once joins once;
    (2) the signed-in address must be the invited one (the link may have been forwarded);
    (3) the user must not work for an issuer already; (4) create the staff row, mark used.
    """
    now = now or timezone.now()
    invitation = invitation_for_token(token, now=now)
    with scopes_disabled():
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if invitation.accepted_at is not None:
            raise InvitationError(None, "This invitation has already been accepted.")
        if (user.email or "").lower() != invitation.email:
            raise InvitationError(
                None,
                f"This invitation is for {invitation.email}; you are signed in as {user.email}.",
            )
        if StaffMember.objects.filter(user=user).exists():
            raise ConflictError("You already work for an issuer; one issuer per person.")
        staff = StaffMember.objects.create(
            user=user, issuer=invitation.issuer, role=invitation.role, created_at=now
        )
        invitation.accepted_at = now
        invitation.save(update_fields=["accepted_at"])
        audit_record(
            issuer=invitation.issuer_id,
            actor=f"staff:{user.pk}",
            action="staff.joined",
            target=invitation.email,
            data={"role": invitation.role},
        )
    return staff


def _lock_with_owners(staff: StaffMember) -> StaffMember:
    """Lock the person's row and every owner row of the issuer, refusing if the change would
    leave no owner once ``staff`` stops being one; the locked, current row is returned.

    One query, in id order: two owners demoting each other at once lock the same rows in the
    same order, so the second waits for the first instead of deadlocking, and then (PostgreSQL
    re-checks a locked row's conditions after the wait) sees the first no longer an owner.
    """
    rows = list(
        StaffMember.objects.select_for_update()
        .filter(Q(issuer_id=staff.issuer_id, role=StaffRole.OWNER) | Q(pk=staff.pk))
        .order_by("pk")
    )
    current = next((row for row in rows if row.pk == staff.pk), None)
    if current is None:
        raise StaffMember.DoesNotExist("This person is no longer on the staff.")
    return current


def _refuse_last_owner(current: StaffMember, owner_ids: list[int]) -> None:
    if current.role == StaffRole.OWNER and owner_ids == [current.pk]:
        raise LastOwnerError(
            "An issuer needs at least one owner: make someone else an owner first."
        )


def _owner_ids(staff: StaffMember) -> list[int]:
    # The owner rows are locked by _lock_with_owners in this transaction already.
    return list(
        StaffMember.objects.filter(issuer_id=staff.issuer_id, role=StaffRole.OWNER)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


@transaction.atomic
def staff_change_role(*, staff: StaffMember, role: str, actor: str) -> StaffMember:
    role = _role(role)
    current = _lock_with_owners(staff)
    if current.role == role:
        return current
    _refuse_last_owner(current, _owner_ids(current))
    previous, current.role = current.role, role
    current.save(update_fields=["role"])
    audit_record(
        issuer=current.issuer_id,
        actor=actor,
        action="staff.role_changed",
        target=current.user.email,
        data={"from": previous, "to": role},
    )
    return current


@transaction.atomic
def staff_remove(*, staff: StaffMember, actor: str) -> None:
    """The person loses access to the issuer's console; their account stays (it is theirs),
    and the history keeps naming them by user id."""
    current = _lock_with_owners(staff)
    _refuse_last_owner(current, _owner_ids(current))
    current.delete()
    audit_record(
        issuer=current.issuer_id,
        actor=actor,
        action="staff.removed",
        target=current.user.email,
        data={"role": current.role, "user": current.user_id},
    )


def staff_user_create(
    *, issuer: Issuer, email: str, password: str, role: str = StaffRole.OWNER
) -> StaffMember:
    """An operator's shortcut (the demo, a new issuer's first owner): a user with a verified
    address and a staff role, without an invitation."""
    email = _normalise_email(email)
    role = _role(role)
    user_model = get_user_model()
    with transaction.atomic(), scopes_disabled():
        user = user_model.objects.filter(email__iexact=email).first()
        if user is None:
            user = user_model.objects.create_user(username=email, email=email, password=password)
        staff, _ = StaffMember.objects.get_or_create(
            user=user, defaults={"issuer": issuer, "role": role}
        )
        if staff.issuer_id != issuer.pk:
            raise ConflictError(f"{email} already works for another issuer.")
    return staff
