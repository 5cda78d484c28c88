"""Bulk seal actions from the members list: a review of what happens to each ticked seal, then
the single actions' services seal by seal, each recorded with the person; scoped, capped, and
closed to viewers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from console import bulk
from seals.chain import verify_chain
from seals.models import Seal, SealEvent
from seals.services import seal_revoke
from tests.factories import MemberFactory, award

URL = reverse("console:bulk-action")


@pytest.fixture
def seals(world) -> list[Seal]:
    more = [award(MemberFactory(issuer=world.issuer)) for _ in range(2)]
    return [world.seal, *more]


def ids(seals: list[Seal]) -> list[str]:
    return [s.public_id for s in seals]


def statuses(seals: list[Seal]) -> list[str]:
    return [Seal.objects.get(pk=s.pk).status for s in seals]


def test_the_list_is_a_form_with_a_box_per_seal_for_writers(world, seals, manager_client):
    body = manager_client.get(reverse("console:members")).content.decode()
    assert f'action="{URL}"' in body
    for seal in seals:
        assert f'name="seal" value="{seal.public_id}"' in body
    assert 'name="action"' in body


def test_a_viewer_sees_no_boxes_and_is_refused(world, seals, viewer_client):
    body = viewer_client.get(reverse("console:members")).content.decode()
    assert 'name="seal"' not in body
    data = {"action": "revoke", "seal": ids(seals), "reason": "x", "confirm": "1"}
    assert viewer_client.post(URL, data).status_code == 403
    assert statuses(seals) == ["active"] * 3


def test_the_review_lists_each_seal_and_changes_nothing(world, seals, manager_client):
    seal_revoke(seal=seals[2], reason="earlier", actor="test")
    response = manager_client.post(URL, {"action": "suspend", "seal": ids(seals)})
    assert response.status_code == 200
    body = response.content.decode()
    assert body.count("will be suspended until reinstated") == 2
    assert "left alone: revoked seals cannot be suspended" in body
    assert 'name="reason"' in body and "(2)" in body
    assert statuses(seals) == ["active", "active", "revoked"]


def test_confirming_applies_to_those_it_fits_and_names_the_person(world, seals, manager_client):
    seal_revoke(seal=seals[2], reason="earlier", actor="test")
    before = SealEvent.objects.count()
    data = {"action": "suspend", "seal": ids(seals), "reason": "Audit", "confirm": "1"}
    response = manager_client.post(URL, data, follow=True)
    assert response.redirect_chain[-1][0] == reverse("console:members")
    assert "2 seals changed, 1 left alone" in response.content.decode()
    assert statuses(seals) == ["suspended", "suspended", "revoked"]
    events = SealEvent.objects.order_by("seq")[before:]
    assert [e.kind for e in events] == ["suspended", "suspended"]
    assert {e.actor for e in events} == {f"staff:{world.manager.user.pk}"}
    assert verify_chain(world.issuer).ok


def test_renew_takes_the_date_for_every_seal(world, seals, manager_client):
    day = (timezone.now() + timedelta(days=900)).date()
    data = {
        "action": "renew",
        "seal": ids(seals),
        "reason": "Paid",
        "expires_on": day.isoformat(),
        "confirm": "1",
    }
    assert manager_client.post(URL, data).status_code == 302
    ends = {Seal.objects.get(pk=s.pk).expires_at for s in seals}
    assert len(ends) == 1 and ends.pop() - timezone.now() > timedelta(days=899)
    assert SealEvent.objects.filter(kind="renewed").count() == 3


def test_confirming_without_a_reason_shows_the_form_again(world, seals, manager_client):
    data = {"action": "revoke", "seal": ids(seals), "reason": "", "confirm": "1"}
    response = manager_client.post(URL, data)
    assert response.status_code == 400
    assert "errorlist" in response.content.decode()
    assert statuses(seals) == ["active"] * 3


def test_another_issuers_seal_is_not_found_and_nothing_changes(world, seals, manager_client):
    data = {
        "action": "revoke",
        "seal": [*ids(seals), world.other_seal.public_id],
        "reason": "x",
        "confirm": "1",
    }
    assert manager_client.post(URL, data).status_code == 404
    assert statuses([*seals, world.other_seal]) == ["active"] * 4


def test_a_selection_over_the_cap_is_refused_in_plain_words(
    world, seals, manager_client, monkeypatch
):
    monkeypatch.setattr(bulk, "MAX_SELECTION", 2)
    data = {"action": "revoke", "seal": ids(seals), "reason": "x", "confirm": "1"}
    response = manager_client.post(URL, data)
    assert response.status_code == 400
    assert "3 seals are selected; a bulk action takes at most 2 at a time" in (
        response.content.decode()
    )
    assert statuses(seals) == ["active"] * 3


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"action": "revoke"}, "Tick at least one seal"),
        ({"action": "explode", "seal": ["x"]}, "Choose an action"),
    ],
)
def test_an_empty_or_odd_selection_is_refused(world, manager_client, data, words):
    response = manager_client.post(URL, data)
    assert response.status_code == 400 and words in response.content.decode()


def test_get_is_not_allowed(world, manager_client):
    assert manager_client.get(URL).status_code == 405
