"""The staff page and the invitation's way in: mail with the 72-hour link, sign-up by invitation
only (with the invited address, verified by the link itself), acceptance, roles, removal."""

from __future__ import annotations

import re

from django.core import mail
from django.test import Client, TestCase
from django.urls import reverse

from issuers.models import Invitation, StaffMember, StaffRole


def invite(client: Client, email: str, role: str = "manager"):
    # The invitation mail leaves after commit; the test's own transaction never commits.
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(reverse("console:staff"), {"email": email, "role": role})


def link_in(message) -> str:
    return re.search(r"https?://\S+/console/join/\S+/", message.body).group(0)


def test_an_owner_invites_and_the_mail_carries_the_link(world, owner_client):
    response = invite(owner_client, "new@a.example")
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["new@a.example"] and world.issuer.name in message.subject
    assert "72 hours" in message.body
    token = link_in(message).rstrip("/").rsplit("/", 1)[1]
    assert token not in str(list(Invitation.objects.values()))
    page = owner_client.get(reverse("console:staff")).content.decode()
    assert "new@a.example" in page


def test_an_invitation_to_someone_already_staff_is_refused(world, owner_client):
    response = invite(owner_client, "viewer@a.example")
    assert response.status_code == 409
    assert "already works for this issuer" in response.content.decode()
    assert mail.outbox == [] and not Invitation.objects.exists()


def test_sign_up_is_closed_without_an_invitation(world):
    client = Client()
    response = client.post(
        reverse("account_signup"),
        {"email": "walkin@x.example", "password1": "a-Long-pass-42", "password2": "a-Long-pass-42"},
    )
    assert response.status_code == 200
    assert "closed" in response.content.decode().lower()
    assert not StaffMember.objects.filter(user__email="walkin@x.example").exists()


def test_the_invited_person_signs_up_and_joins(world, owner_client):
    invite(owner_client, "new@a.example", "manager")
    path = link_in(mail.outbox[0]).split("://", 1)[1].split("/", 1)[1]
    path = "/" + path
    client = Client()
    landing = client.get(path)
    assert landing.status_code == 200 and "Create your account" in landing.content.decode()
    # Another address than the invited one is refused.
    wrong = client.post(
        reverse("account_signup"),
        {"email": "other@a.example", "password1": "a-Long-pass-42", "password2": "a-Long-pass-42"},
    )
    assert "sign up with that address" in wrong.content.decode()
    signup = client.post(
        f"{reverse('account_signup')}?next={path}",
        {
            "email": "new@a.example",
            "password1": "a-Long-pass-42",
            "password2": "a-Long-pass-42",
            "next": path,
        },
    )
    # The link proved the address: no second confirmation mail, signed in at once.
    assert signup.status_code == 302 and signup["Location"] == path
    assert len(mail.outbox) == 1
    joined = client.post(path)
    assert joined.status_code == 302 and joined["Location"] == reverse("console:dashboard")
    staff = StaffMember.objects.get(user__email="new@a.example")
    assert (staff.issuer_id, staff.role) == (world.issuer.pk, StaffRole.MANAGER)
    assert client.get(reverse("console:dashboard")).status_code == 200
    # Used once.
    again = Client().get(path)
    assert again.status_code == 404 and "already been accepted" in again.content.decode()


def test_a_forged_link_is_not_found(world):
    response = Client().get(reverse("console:join", args=["forged-token"]))
    assert response.status_code == 404


def test_an_owner_changes_a_role_and_removes_someone(world, owner_client):
    response = owner_client.post(
        reverse("console:staff-role", args=[world.viewer.pk]), {"role": "manager"}
    )
    assert response.status_code == 302
    assert StaffMember.objects.get(pk=world.viewer.pk).role == StaffRole.MANAGER
    confirm = owner_client.get(reverse("console:staff-remove", args=[world.viewer.pk]))
    assert confirm.status_code == 200 and "lose access" in confirm.content.decode()
    assert StaffMember.objects.filter(pk=world.viewer.pk).exists()
    removed = owner_client.post(reverse("console:staff-remove", args=[world.viewer.pk]))
    assert removed.status_code == 302
    assert not StaffMember.objects.filter(pk=world.viewer.pk).exists()
    gone = Client()
    gone.force_login(world.viewer.user, backend="django.contrib.auth.backends.ModelBackend")
    assert gone.get(reverse("console:dashboard")).status_code == 403


def test_the_last_owner_cannot_step_down(world, owner_client):
    response = owner_client.post(
        reverse("console:staff-role", args=[world.owner.pk]), {"role": "viewer"}
    )
    assert response.status_code == 409
    assert "at least one owner" in response.content.decode()
    response = owner_client.post(reverse("console:staff-remove", args=[world.owner.pk]))
    assert response.status_code == 409
    assert StaffMember.objects.get(pk=world.owner.pk).role == StaffRole.OWNER
