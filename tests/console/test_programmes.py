"""Programmes from the console, through the API's services."""

from __future__ import annotations

from django.urls import reverse

from issuers.models import Programme

FORM = {
    "slug": "gold",
    "name": "Gold member",
    "description": "Top tier.",
    "criteria_url": "",
    "validity_days": "730",
    "notice_days": "60, 7",
    "theme": "dark",
    "accent_colour": "#aa8800",
    "wording": "Gold member",
}


def test_a_manager_creates_and_edits_a_programme(world, manager_client):
    response = manager_client.post(reverse("console:programme-create"), FORM)
    assert response.status_code == 302
    gold = Programme.objects.get(issuer=world.issuer, slug="gold")
    assert (gold.validity_days, gold.notice_days, gold.theme) == (730, [60, 7], "dark")
    edit = reverse("console:programme-edit", args=[gold.pk])
    data = {k: v for k, v in FORM.items() if k != "slug"}
    response = manager_client.post(edit, {**data, "wording": "Gold", "notice_days": "1"})
    assert response.status_code == 302
    gold.refresh_from_db()
    assert gold.wording == "Gold" and gold.notice_days == [1] and gold.slug == "gold"


def test_bad_input_is_shown_and_changes_nothing(world, manager_client):
    taken = {**FORM, "slug": world.seal.programme.slug}
    assert manager_client.post(reverse("console:programme-create"), taken).status_code == 409
    for bad in ({"accent_colour": "red"}, {"notice_days": "soon"}, {"validity_days": "0"}):
        response = manager_client.post(reverse("console:programme-create"), {**FORM, **bad})
        assert response.status_code == 400, bad
    assert Programme.objects.filter(issuer=world.issuer).count() == 1


def test_a_programme_with_seals_is_not_deleted(world, manager_client):
    programme = world.seal.programme
    extra = Programme.objects.create(issuer=world.issuer, slug="spare", name="Spare")
    response = manager_client.post(reverse("console:programme-delete", args=[programme.pk]))
    assert response.status_code == 302
    assert Programme.objects.filter(pk=programme.pk).exists()
    response = manager_client.post(reverse("console:programme-delete", args=[extra.pk]))
    assert response.status_code == 302
    assert not Programme.objects.filter(pk=extra.pk).exists()


def test_the_edit_page_shows_one_of_its_seals(world, viewer_client):
    page = viewer_client.get(reverse("console:programme-edit", args=[world.seal.programme_id]))
    body = page.content.decode()
    assert f"/s/{world.seal.public_id}.svg" in body
    assert "Save" not in body  # a viewer reads, does not edit
