"""The console speaks its user's language (Accept-Language, or the choice it keeps in a cookie
scoped to /console/), right to left in Arabic; the public routes keep choosing their own."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.console.conftest import reauthenticated, signed_in

DASHBOARD_WORDS = {
    "en": ("Seals by status", "Sign out"),
    "fr": ("Labels par statut", "Se déconnecter"),
    "de": ("Siegel nach Status", "Abmelden"),
    "es": ("Sellos por estado", "Cerrar sesión"),
    "ar": ("الأختام حسب الحالة", "تسجيل الخروج"),
}


@pytest.mark.parametrize("lang", DASHBOARD_WORDS)
def test_the_dashboard_speaks_the_language_the_browser_asks_for(world, lang):
    response = signed_in(world.viewer).get("/console/", HTTP_ACCEPT_LANGUAGE=lang)
    html = response.content.decode()
    assert response.status_code == 200
    for words in DASHBOARD_WORDS[lang]:
        assert words in html
    assert f'<html lang="{lang}" dir="{"rtl" if lang == "ar" else "ltr"}">' in html
    assert response["Content-Language"] == lang


def test_a_chosen_language_is_kept_in_a_console_only_cookie_and_wins(world):
    client = signed_in(world.viewer)
    response = client.post("/console/i18n/setlang/", {"language": "de", "next": "/console/"})
    assert response.status_code == 302 and response["Location"] == "/console/"
    cookie = response.cookies["django_language"]
    assert cookie.value == "de" and cookie["path"] == "/console/" and cookie["httponly"]
    html = client.get("/console/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Siegel nach Status" in html and '<html lang="de" dir="ltr">' in html


def test_the_sign_in_page_speaks_the_language_too(client):
    html = client.get("/console/accounts/login/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert '<html lang="fr" dir="ltr">' in html
    assert "Changer de langue" in html


@pytest.mark.django_db
def test_public_routes_ignore_the_console_language(client, world):
    client.cookies["django_language"] = "fr"
    response = client.get(f"/s/{world.seal.public_id}.svg", HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 200
    assert "Accept-Language" not in response.get("Vary", "")
    assert response.get("Content-Language") in (None, "en")


def test_statuses_roles_and_events_are_translated_too(world):
    client = signed_in(world.owner)
    member = client.get(f"/console/members/{world.member.pk}/", HTTP_ACCEPT_LANGUAGE="de")
    html = member.content.decode()
    assert '<span class="status status-active">Gültig</span>' in html
    assert "<td>Verliehen</td>" in html  # the "issued" event in the history
    staff = client.get("/console/staff/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "<td>Propriétaire</td>" in staff and ">Lecteur</option>" in staff


def test_the_console_language_does_not_stay_with_the_thread_for_a_public_page(world):
    # The test client serves both requests on this one thread, as a threaded server may.
    assert (
        "Labels par statut"
        in signed_in(world.viewer).get("/console/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    )
    landing = Client().get("/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "How to check a seal" in landing and "Comment vérifier" not in landing


def test_every_page_an_owner_reads_renders_right_to_left_in_arabic(world):
    from tests.console.test_access import POST_ONLY, paths

    client = reauthenticated(signed_in(world.owner), world.owner)
    for name, path in paths(world).items():
        if name in POST_ONLY or name in {
            "console:audit-csv",
            "console:stats-csv",
            "console:import-errors-csv",
        }:
            continue
        if name in {
            "console:member-export",
            "console:member-export-csv",
            "console:programme-preview",
        }:
            continue  # JSON, a ZIP and an image: no page
        response = client.get(path, HTTP_ACCEPT_LANGUAGE="ar")
        assert response.status_code == 200, (name, response.status_code)
        assert '<html lang="ar" dir="rtl">' in response.content.decode(), name
