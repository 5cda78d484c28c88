"""The Django admin creates issuers through the service, like every other way in."""

from __future__ import annotations

import pytest

from issuers.models import Issuer, Member
from seals.models import SigningKey
from tests.api_support import Api
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


def add_issuer(admin_client, **fields):
    form = {
        "slug": "guild",
        "name": "Guild of Bakers",
        "kind": "association",
        "website": "",
        "description": "Bakers.",
        "public_email": "",
        "status": "active",
        "time_zone": "UTC",  # the form's initial value, as a browser sends it
        **fields,
    }
    return admin_client.post("/console/admin/issuers/issuer/add/", form)


def test_the_admin_keeps_the_time_zone_it_was_given(admin_client):
    add_issuer(admin_client, time_zone="Europe/Madrid")

    assert Issuer.objects.get(slug="guild").time_zone == "Europe/Madrid"


def test_an_issuer_added_in_the_admin_has_a_default_programme_and_a_signing_key(admin_client):
    response = add_issuer(admin_client)

    assert response.status_code == 302, response.content[:500]
    issuer = Issuer.objects.get(slug="guild")
    assert issuer.description == "Bakers."
    assert issuer.programmes.get(is_default=True).slug == "member"
    assert SigningKey.objects.filter(issuer=issuer, state="active").count() == 1


def test_an_issuer_added_in_the_admin_can_award_and_import_at_once(admin_client):
    add_issuer(admin_client)
    api = Api(Issuer.objects.get(slug="guild"))
    member = MemberFactory(issuer=api.issuer)

    awarded = api.post("/seals", {"member": member.pk})
    imported = api.client.post(
        "/api/v1/imports",
        b"external_ref,legal_name\nR-1,Rye Ltd\n",
        content_type="text/csv",
    )

    assert awarded.status_code == 201, awarded.content
    assert imported.status_code == 201, imported.content
    assert Member.objects.filter(issuer=api.issuer).count() == 2


def test_the_admin_still_refuses_a_taken_slug(admin_client):
    add_issuer(admin_client)

    response = add_issuer(admin_client, name="Other")

    assert response.status_code == 200  # the form again, with its error
    assert Issuer.objects.filter(slug="guild").count() == 1


def test_editing_an_issuer_in_the_admin_keeps_its_programmes(admin_client):
    add_issuer(admin_client)
    issuer = Issuer.objects.get(slug="guild")

    response = admin_client.post(
        f"/console/admin/issuers/issuer/{issuer.pk}/change/",
        {
            "slug": "guild",
            "name": "Renamed",
            "kind": "association",
            "website": "",
            "description": "",
            "public_email": "",
            "status": "suspended",
            "time_zone": "UTC",
        },
    )

    assert response.status_code == 302
    issuer.refresh_from_db()
    assert (issuer.name, issuer.status) == ("Renamed", "suspended")
    assert issuer.programmes.count() == 1
