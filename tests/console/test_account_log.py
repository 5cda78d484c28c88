"""The account log: staff, API key and webhook changes, each naming who made it."""

from __future__ import annotations

from django.db.models import Max
from django.test import TestCase
from django.urls import reverse

from issuers.models import ApiKey, AuditEntry, WebhookEndpoint
from tests.console.conftest import reauthenticated


def last_entry() -> int:
    return AuditEntry.objects.aggregate(last=Max("id"))["last"] or 0


def actions(world, *, after: int) -> list[tuple[str, str, str]]:
    """What the test's own requests logged (the world's set-up logs changes of its own)."""
    return list(
        AuditEntry.objects.filter(issuer=world.issuer, id__gt=after)
        .order_by("id")
        .values_list("action", "target", "actor")
    )


def test_account_changes_are_logged_with_the_person(world, owner_client):
    me = f"staff:{world.owner.user.pk}"
    before = last_entry()
    reauthenticated(owner_client, world.owner)  # for the API key changes
    with TestCase.captureOnCommitCallbacks(execute=True):
        owner_client.post(reverse("console:staff"), {"email": "new@a.example", "role": "viewer"})
    owner_client.post(reverse("console:staff-role", args=[world.viewer.pk]), {"role": "manager"})
    owner_client.post(reverse("console:staff-remove", args=[world.viewer.pk]))
    owner_client.post(reverse("console:keys"), {"name": "CRM", "scopes": ["read"]})
    key = ApiKey.objects.get(name="CRM")
    owner_client.post(reverse("console:key-revoke", args=[key.pk]))
    owner_client.post(reverse("console:webhooks"), {"url": "https://crm.a.example/h"})
    endpoint = WebhookEndpoint.objects.get(url="https://crm.a.example/h")
    owner_client.post(reverse("console:webhook-toggle", args=[endpoint.pk]))
    assert actions(world, after=before) == [
        ("staff.invited", "new@a.example", me),
        ("staff.role_changed", "viewer@a.example", me),
        ("staff.removed", "viewer@a.example", me),
        ("api_key.created", "CRM", me),
        ("api_key.revoked", "CRM", me),
        ("webhook.created", "https://crm.a.example/h", me),
        ("webhook.switched_off", "https://crm.a.example/h", me),
    ]
    page = owner_client.get(reverse("console:account-log")).content.decode()
    assert "staff.removed" in page and "owner@a.example" in page


def test_a_refused_change_is_not_logged(world, owner_client):
    before = last_entry()
    owner_client.post(reverse("console:staff-role", args=[world.owner.pk]), {"role": "viewer"})
    assert actions(world, after=before) == []


def test_another_issuers_log_is_not_shown(world, owner_client):
    AuditEntry.objects.create(issuer=world.other_issuer, actor="x", action="secret.thing")
    page = owner_client.get(reverse("console:account-log")).content.decode()
    assert "secret.thing" not in page
