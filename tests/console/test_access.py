"""Who may see and do what: sign-in, the role matrix, and tenancy (another issuer's id = 404)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from issuers.models import StaffMember, StaffRole
from seals.keys import signing_key_active
from seals.models import Seal, SealEvent
from tests.console.conftest import make_staff

# Console routes open to people who are not (yet) staff: the invitation link.
NOT_STAFF_ONLY = {"console:join", "console:sso-start"}
POST_ONLY = {
    "console:staff-role",
    "console:bulk-action",
    "console:import-run",
    "console:key-revoke",
    "console:programme-delete",
    "console:issuer-logo",
    "console:webhook-toggle",
    "console:webhook-test",
    "console:announcement-send",
}
# Pages a viewer may not even read: owners' (API keys, webhooks), a member's whole export.
NOT_FOR_VIEWERS = {
    "console:sso",
    "console:sso-saml",
    "console:member-export",
    "console:member-export-csv",
    "console:keys",
    "console:key-revoke",
    "console:signing-keys",
    "console:signing-key-revoke",
    "console:webhooks",
    "console:webhook",
    "console:webhook-toggle",
    "console:webhook-test",
}


def console_routes() -> list[tuple[str, URLPattern]]:
    found = []

    def walk(patterns, namespace=""):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, entry.namespace or namespace)
            elif isinstance(entry, URLPattern) and namespace == "console":
                found.append((f"console:{entry.name}", entry))

    walk(get_resolver().url_patterns)
    return found


def paths(world) -> dict[str, str]:
    seal, member, programme = world.seal.public_id, world.member.pk, world.seal.programme_id
    return {
        "console:dashboard": reverse("console:dashboard"),
        "console:members": reverse("console:members"),
        "console:member": reverse("console:member", args=[member]),
        "console:member-create": reverse("console:member-create"),
        "console:member-edit": reverse("console:member-edit", args=[member]),
        "console:seal-award": reverse("console:seal-award", args=[member]),
        "console:member-export": reverse("console:member-export", args=[member]),
        "console:member-export-csv": reverse("console:member-export-csv", args=[member]),
        "console:member-erase": reverse("console:member-erase", args=[member]),
        "console:data-requests": reverse("console:data-requests"),
        "console:data-request": reverse("console:data-request", args=[world.data_request.pk]),
        "console:seal-action": reverse("console:seal-action", args=[seal, "suspend"]),
        "console:bulk-action": reverse("console:bulk-action"),
        "console:imports": reverse("console:imports"),
        "console:import": reverse("console:import", args=[world.import_job.pk]),
        "console:import-run": reverse("console:import-run", args=[world.import_job.pk]),
        "console:import-errors-csv": reverse(
            "console:import-errors-csv", args=[world.import_job.pk]
        ),
        "console:programmes": reverse("console:programmes"),
        "console:programme-create": reverse("console:programme-create"),
        "console:programme-edit": reverse("console:programme-edit", args=[programme]),
        "console:programme-delete": reverse("console:programme-delete", args=[programme]),
        "console:issuer-logo": reverse("console:issuer-logo", args=[programme]),
        "console:programme-preview": reverse("console:programme-preview", args=["svg"])
        + f"?programme={programme}&name=P&theme=dark&accent_colour=%23112233&wording=W",
        "console:announcements": reverse("console:announcements"),
        "console:announcement": reverse("console:announcement", args=[world.announcement.pk]),
        "console:announcement-preview": reverse(
            "console:announcement-preview", args=[world.announcement.pk]
        ),
        "console:announcement-send": reverse(
            "console:announcement-send", args=[world.announcement.pk]
        ),
        "console:stats": reverse("console:stats"),
        "console:stats-csv": reverse("console:stats-csv"),
        "console:audit": reverse("console:audit"),
        "console:audit-csv": reverse("console:audit-csv"),
        "console:misuse-reports": reverse("console:misuse-reports"),
        "console:account-log": reverse("console:account-log"),
        "console:staff": reverse("console:staff"),
        "console:staff-role": reverse("console:staff-role", args=[world.viewer.pk]),
        "console:staff-remove": reverse("console:staff-remove", args=[world.viewer.pk]),
        "console:webhooks": reverse("console:webhooks"),
        "console:webhook": reverse("console:webhook", args=[world.endpoint.pk]),
        "console:webhook-toggle": reverse("console:webhook-toggle", args=[world.endpoint.pk]),
        "console:webhook-test": reverse("console:webhook-test", args=[world.endpoint.pk]),
        "console:keys": reverse("console:keys"),
        "console:sso": reverse("console:sso"),
        "console:sso-saml": reverse("console:sso-saml"),
        "console:key-revoke": reverse("console:key-revoke", args=[world.api_key.pk]),
        "console:signing-keys": reverse("console:signing-keys"),
        "console:signing-key-revoke": reverse(
            "console:signing-key-revoke", args=[signing_key_active(world.issuer).pk]
        ),
    }


def test_every_console_view_goes_through_the_one_access_check():
    routes = console_routes()
    assert len(routes) >= 10
    unchecked = [
        name
        for name, pattern in routes
        if name not in NOT_STAFF_ONLY and not hasattr(pattern.callback, "console_roles")
    ]
    assert unchecked == []


def test_every_page_needs_a_sign_in(world):
    client = Client()
    covered = paths(world)
    assert set(covered) == {name for name, _ in console_routes()} - NOT_STAFF_ONLY
    for name, path in covered.items():
        for method in ("get", "post"):
            response = getattr(client, method)(path)
            assert response.status_code == 302, (name, method)
            assert response["Location"].startswith("/console/accounts/login/?next="), name
    assert Seal.objects.get(pk=world.seal.pk).status == "active"


def test_an_account_that_is_not_staff_sees_nothing(world):
    user = get_user_model().objects.create_user("x@x.example", "x@x.example", "pw")
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    assert client.get(reverse("console:dashboard")).status_code == 403
    assert client.get(reverse("console:member", args=[world.member.pk])).status_code == 403


def test_a_viewer_reads_everything(world, viewer_client):
    for name, path in paths(world).items():
        response = viewer_client.get(path)
        expected = 403 if name in NOT_FOR_VIEWERS else 405 if name in POST_ONLY else 200
        assert response.status_code == expected, (name, response.status_code)


def test_a_viewer_posts_nothing(world, viewer_client):
    before = SealEvent.objects.count()
    for name, path in paths(world).items():
        response = viewer_client.post(path, {"reason": "x", "role": "owner", "email": "a@b.c"})
        assert response.status_code == 403, name
    seal = Seal.objects.get(pk=world.seal.pk)
    assert seal.status == "active" and seal.version == world.seal.version
    assert SealEvent.objects.count() == before
    assert StaffMember.objects.get(pk=world.viewer.pk).role == StaffRole.VIEWER
    assert world.member.seals.count() == 1


def test_a_manager_acts_on_seals_but_not_on_staff(world, manager_client):
    staff_pages = ("console:staff", "console:staff-role", "console:staff-remove")
    for name in staff_pages:
        response = manager_client.post(paths(world)[name], {"role": "owner", "email": "a@b.c"})
        assert response.status_code == 403, name
    assert StaffMember.objects.get(pk=world.viewer.pk).role == StaffRole.VIEWER
    response = manager_client.post(paths(world)["console:seal-action"], {"reason": "Complaint"})
    assert response.status_code == 302
    assert Seal.objects.get(pk=world.seal.pk).status == "suspended"


@pytest.mark.parametrize("method", ["get", "post"])
def test_another_issuers_objects_are_not_found(world, owner_client, method):
    foreign = [
        reverse("console:member", args=[world.other_member.pk]),
        reverse("console:seal-award", args=[world.other_member.pk]),
        reverse("console:member-edit", args=[world.other_member.pk]),
        reverse("console:programme-edit", args=[world.other_seal.programme_id]),
        reverse("console:member-export", args=[world.other_member.pk]),
        reverse("console:member-export-csv", args=[world.other_member.pk]),
        reverse("console:member-erase", args=[world.other_member.pk]),
        reverse("console:seal-action", args=[world.other_seal.public_id, "revoke"]),
    ]
    outsider = make_staff(world.other_issuer, "owner@b.example", StaffRole.OWNER)
    foreign.append(reverse("console:staff-remove", args=[outsider.pk]))
    if method == "post":  # a GET there is 405 whatever the id (tests above)
        foreign.append(reverse("console:staff-role", args=[outsider.pk]))
        foreign.append(reverse("console:programme-delete", args=[world.other_seal.programme_id]))
    for path in foreign:
        response = getattr(owner_client, method)(path, {"reason": "x", "role": "viewer"})
        assert response.status_code == 404, path
    assert Seal.objects.get(pk=world.other_seal.pk).status == "active"
    assert world.other_member.seals.count() == 1
    assert StaffMember.objects.get(pk=outsider.pk).role == StaffRole.OWNER


def test_lists_show_only_the_issuers_own_rows(world, owner_client):
    members = owner_client.get(reverse("console:members")).content.decode()
    assert world.member.display_name in members
    assert world.other_member.display_name not in members
    audit = owner_client.get(reverse("console:audit-csv")).content.decode()
    assert world.seal.public_id in audit and world.other_seal.public_id not in audit


def test_an_unknown_action_is_not_found(world, owner_client):
    path = reverse("console:seal-action", args=[world.seal.public_id, "delete"])
    assert owner_client.post(path, {"reason": "x"}).status_code == 404


def test_a_refusal_says_why(world, viewer_client):
    response = viewer_client.post(reverse("console:staff"), {"email": "a@b.c", "role": "owner"})
    assert response.status_code == 403
    assert "needs the owner role" in response.content.decode()
