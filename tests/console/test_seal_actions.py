"""Seal actions from the console: a confirmation first, then the API's own service, with the
staff user recorded as the actor; what the rules refuse is shown and changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from seals.chain import verify_chain
from seals.models import Seal, SealEvent


def action(seal: Seal, name: str) -> str:
    return reverse("console:seal-action", args=[seal.public_id, name])


def last_event(seal: Seal) -> SealEvent:
    return SealEvent.objects.filter(seal=seal).order_by("-seq").first()


def test_the_get_is_a_confirmation_and_changes_nothing(world, manager_client):
    response = manager_client.get(action(world.seal, "revoke"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Revocation is final" in body and 'name="reason"' in body
    assert Seal.objects.get(pk=world.seal.pk).status == "active"


@pytest.mark.parametrize(
    ("name", "status", "kind"),
    [("suspend", "suspended", "suspended"), ("revoke", "revoked", "revoked")],
)
def test_an_action_changes_the_seal_and_names_the_person(world, manager_client, name, status, kind):
    response = manager_client.post(action(world.seal, name), {"reason": "Complaint upheld"})
    assert response.status_code == 302
    assert response["Location"] == reverse("console:member", args=[world.member.pk])
    seal = Seal.objects.get(pk=world.seal.pk)
    assert seal.status == status and seal.status_reason == "Complaint upheld"
    event = last_event(seal)
    assert event.kind == kind
    assert event.actor == f"staff:{world.manager.user.pk}"
    assert verify_chain(world.issuer).ok


def test_reinstate_after_suspend(world, manager_client):
    manager_client.post(action(world.seal, "suspend"), {"reason": "Check"})
    response = manager_client.post(action(world.seal, "reinstate"), {"reason": "Cleared"})
    assert response.status_code == 302
    assert Seal.objects.get(pk=world.seal.pk).status == "active"
    assert last_event(world.seal).kind == "reinstated"


def test_renew_sets_the_end_of_the_chosen_day(world, manager_client):
    day = (timezone.now() + timedelta(days=800)).date()
    response = manager_client.post(
        action(world.seal, "renew"), {"reason": "Paid", "expires_on": day.isoformat()}
    )
    assert response.status_code == 302
    seal = Seal.objects.get(pk=world.seal.pk)
    # Valid through that whole day in the issuer's time zone (UTC here): to the next midnight.
    assert seal.expires_at == datetime.combine(day + timedelta(days=1), time.min, tzinfo=UTC)
    assert last_event(seal).actor == f"staff:{world.manager.user.pk}"


def test_a_refused_action_is_shown_and_changes_nothing(world, manager_client):
    before = SealEvent.objects.filter(seal=world.seal).count()
    response = manager_client.post(action(world.seal, "reinstate"), {"reason": "Why not"})
    assert response.status_code == 409
    assert "Only a suspended seal can be reinstated" in response.content.decode()
    past = (timezone.now() - timedelta(days=3)).date().isoformat()
    response = manager_client.post(action(world.seal, "renew"), {"reason": "x", "expires_on": past})
    assert response.status_code == 400
    assert "in the future" in response.content.decode()
    seal = Seal.objects.get(pk=world.seal.pk)
    assert seal.version == world.seal.version
    assert SealEvent.objects.filter(seal=world.seal).count() == before


def test_a_reason_is_required(world, manager_client):
    response = manager_client.post(action(world.seal, "suspend"), {"reason": ""})
    assert response.status_code == 400
    assert Seal.objects.get(pk=world.seal.pk).status == "active"


def test_award_goes_through_the_one_live_seal_rule(world, manager_client):
    path = reverse("console:seal-award", args=[world.member.pk])
    page = manager_client.get(path)
    assert page.status_code == 200 and 'name="programme"' in page.content.decode()
    programme = world.seal.programme
    response = manager_client.post(path, {"programme": programme.pk})
    assert response.status_code == 409
    assert "already holds a live seal" in response.content.decode()
    assert world.member.seals.count() == 1
    manager_client.post(action(world.seal, "revoke"), {"reason": "Replaced"})
    response = manager_client.post(path, {"programme": programme.pk})
    assert response.status_code == 302
    new = world.member.seals.exclude(pk=world.seal.pk).get()
    assert new.status == "active"
    assert last_event(new).actor == f"staff:{world.manager.user.pk}"


def test_award_refuses_another_issuers_programme(world, manager_client):
    foreign = world.other_seal.programme
    path = reverse("console:seal-award", args=[world.member.pk])
    response = manager_client.post(path, {"programme": foreign.pk})
    assert response.status_code == 400
    assert world.member.seals.count() == 1


def test_the_member_page_names_the_person_behind_staff_actions(world, manager_client):
    manager_client.post(action(world.seal, "suspend"), {"reason": "Check"})
    page = manager_client.get(reverse("console:member", args=[world.member.pk])).content.decode()
    assert f"staff:{world.manager.user.pk}" in page and "manager@a.example" in page
