"""Creating and editing members from the console, through the API's services."""

from __future__ import annotations

from django.urls import reverse

from issuers.models import Member
from privacy.services import member_erase
from seals.models import SealEvent

FORM = {
    "external_ref": "NEW-1",
    "legal_name": "Northwind Traders Ltd",
    "display_name": "",
    "domains": "Northwind.example\nwww.northwind.example",
    "country": "gb",
    "contact_name": "Nora",
    "contact_email": "nora@northwind.example",
    "contact_phone": "",
}


def test_a_manager_creates_a_member(world, manager_client):
    response = manager_client.post(reverse("console:member-create"), FORM)
    assert response.status_code == 302
    member = Member.objects.get(issuer=world.issuer, external_ref="NEW-1")
    assert member.display_name == "Northwind Traders Ltd"
    assert member.domains == ["northwind.example", "www.northwind.example"]
    assert member.country == "GB" and member.contact_email == "nora@northwind.example"
    assert response["Location"] == reverse("console:member", args=[member.pk])


def test_a_taken_number_or_a_bad_domain_is_shown_and_creates_nothing(world, manager_client):
    taken = manager_client.post(
        reverse("console:member-create"), {**FORM, "external_ref": world.member.external_ref}
    )
    assert taken.status_code == 409 and "already exists" in taken.content.decode()
    bad = manager_client.post(reverse("console:member-create"), {**FORM, "domains": "not a host"})
    assert bad.status_code == 400
    assert Member.objects.filter(issuer=world.issuer).count() == 1


def test_editing_the_public_details_records_who_changed_them(world, manager_client):
    path = reverse("console:member-edit", args=[world.member.pk])
    page = manager_client.get(path)
    assert page.status_code == 200 and world.member.legal_name in page.content.decode()
    data = {k: v for k, v in FORM.items() if k != "external_ref"}
    response = manager_client.post(path, {**data, "display_name": "Northwind"})
    assert response.status_code == 302
    member = Member.objects.get(pk=world.member.pk)
    assert member.display_name == "Northwind" and member.external_ref == world.member.external_ref
    event = SealEvent.objects.filter(seal=world.seal).order_by("-seq").first()
    assert event.kind == "details_changed"
    assert event.actor == f"staff:{world.manager.user.pk}"


def test_an_erased_member_cannot_be_edited(world, manager_client):
    member_erase(member=world.member, corporate=False, actor="test")
    path = reverse("console:member-edit", args=[world.member.pk])
    data = {k: v for k, v in FORM.items() if k != "external_ref"}
    response = manager_client.post(path, data)
    assert response.status_code == 409
    assert "erased" in response.content.decode()
    assert Member.objects.get(pk=world.member.pk).legal_name == world.member.legal_name
