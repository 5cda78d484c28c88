"""The seal designer on a programme's page: "Preview" shows the settings as typed, unsaved, as
an image drawn by the public image's own path; with no script; the issuer's logo upload."""

from __future__ import annotations

import io
import re
from html import unescape

from django.test import Client, TestCase
from django.urls import reverse
from PIL import Image

from issuers.models import Issuer, Programme
from seals import registry

DESIGN = {"name": "Gold member", "theme": "dark", "accent_colour": "#aa8800", "wording": "Gold"}


def edit_form(programme: Programme, **changes) -> dict:
    return {
        "name": programme.name,
        "description": programme.description,
        "criteria_url": programme.criteria_url,
        "validity_days": programme.validity_days,
        "notice_days": ", ".join(str(d) for d in programme.notice_days),
        "theme": programme.theme,
        "accent_colour": programme.accent_colour,
        "wording": programme.wording,
        **changes,
    }


def preview_src(html: str) -> str:
    match = re.search(r'<img src="(/console/programmes/preview\.svg\?[^"]+)"', html)
    assert match, "no preview image on the page"
    return unescape(match.group(1))


def test_preview_shows_the_unsaved_settings_and_saves_nothing(world, manager_client):
    programme = world.seal.programme
    before = edit_form(programme)
    response = manager_client.post(
        reverse("console:programme-edit", args=[programme.pk]),
        edit_form(programme, **DESIGN, preview="1"),
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "not saved yet" in html and "<script" not in html
    src = preview_src(html)
    assert "theme=dark" in src and "wording=Gold" in src and f"programme={programme.pk}" in src
    # The form comes back as typed.
    assert 'value="Gold member"' in html
    programme.refresh_from_db()
    assert edit_form(programme) == before


def test_the_preview_is_exactly_the_public_image_once_saved(world, manager_client):
    programme, public = world.seal.programme, f"/s/{world.seal.public_id}.svg"
    assert programme.theme == "light"
    src = (
        reverse("console:programme-preview", args=["svg"])
        + "?"
        + (
            f"programme={programme.pk}&name={programme.name}&theme=dark"
            f"&accent_colour=%23aa8800&wording=Gold&lang=en"
        )
    )
    preview = manager_client.get(src)
    assert preview.status_code == 200 and preview["Content-Type"] == "image/svg+xml"
    assert "no-store" in preview["Cache-Control"] or "max-age=0" in preview["Cache-Control"]
    assert preview.content != Client().get(public).content  # unsaved: the public differs
    with TestCase.captureOnCommitCallbacks(execute=True):
        registry.programme_update(
            programme=programme, theme="dark", accent_colour="#aa8800", wording="Gold"
        )
    assert Client().get(public).content == preview.content
    png = manager_client.get(src.replace("preview.svg", "preview.png"))
    assert (
        png["Content-Type"] == "image/png"
        and png.content == Client().get(f"/s/{world.seal.public_id}.png").content
    )


def test_a_new_programme_previews_a_sample_member(world, manager_client):
    form = {"slug": "gold", "validity_days": "365", "notice_days": "30", **DESIGN, "preview": "1"}
    response = manager_client.post(reverse("console:programme-create"), form)
    assert response.status_code == 200
    image = manager_client.get(preview_src(response.content.decode()))
    assert image.status_code == 200
    svg = image.content.decode()
    assert "Example Member Ltd" in svg and "Gold member" in svg
    assert not Programme.objects.filter(slug="gold").exists()


def test_bad_settings_are_refused_and_never_drawn(world, manager_client):
    programme = world.seal.programme
    page = manager_client.post(
        reverse("console:programme-edit", args=[programme.pk]),
        edit_form(programme, accent_colour="red", preview="1"),
    )
    assert page.status_code == 400 and "A colour like #1f6feb." in page.content.decode()
    assert "/console/programmes/preview.svg" not in page.content.decode()
    bad = reverse("console:programme-preview", args=["svg"]) + "?name=X&theme=neon&wording=W"
    response = manager_client.get(bad)
    assert response.status_code == 400 and "theme" in response.content.decode()
    unknown = reverse("console:programme-preview", args=["gif"]) + "?name=X"
    assert manager_client.get(unknown).status_code == 404


def test_another_issuers_programme_is_not_found(world, manager_client):
    theirs = world.other_seal.programme
    src = reverse("console:programme-preview", args=["svg"]) + (
        f"?programme={theirs.pk}&name=X&theme=dark&accent_colour=%23112233&wording=W"
    )
    assert manager_client.get(src).status_code == 404


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 32), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def test_a_manager_uploads_the_issuers_logo_and_the_preview_shows_it(world, manager_client):
    programme = world.seal.programme
    path = reverse("console:issuer-logo", args=[programme.pk])
    response = manager_client.post(path, {"logo": io.BytesIO(png_bytes())}, format="multipart")
    assert response.status_code == 302
    issuer = Issuer.objects.get(pk=world.issuer.pk)
    assert issuer.logo_version == 1 and issuer.logo_png
    page = manager_client.get(reverse("console:programme-edit", args=[programme.pk]))
    svg = manager_client.get(preview_src(page.content.decode())).content.decode()
    assert "data:image/png;base64," in svg


def test_a_bad_logo_is_refused_and_changes_nothing(world, manager_client):
    path = reverse("console:issuer-logo", args=[world.seal.programme.pk])
    fake = io.BytesIO(b"<svg xmlns='http://www.w3.org/2000/svg'/>")
    fake.name = "logo.svg"
    response = manager_client.post(path, {"logo": fake}, follow=True)
    assert "SVG logos are not accepted" in response.content.decode()
    assert Issuer.objects.get(pk=world.issuer.pk).logo_version == 0
