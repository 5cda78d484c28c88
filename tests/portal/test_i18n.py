"""The portal speaks its member's language once signed in (unless another was picked on the
page), the browser's before; right to left in Arabic."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from issuers.models import Member

SIGN_OUT = {
    "en": "Sign out",
    "de": "Abmelden",
    "fr": "Se déconnecter",
    "es": "Cerrar sesión",
    "ar": "تسجيل الخروج",
}


def speak(member: Member, lang: str) -> None:
    Member.objects.filter(pk=member.pk).update(language=lang)


@pytest.mark.parametrize("lang", SIGN_OUT)
def test_after_sign_in_the_portal_speaks_the_members_language(signed_in, member, lang):
    speak(member, lang)
    # The browser asks for another language: the member's wins.
    other = "fr" if lang != "fr" else "de"
    response = signed_in.get(reverse("portal:home"), HTTP_ACCEPT_LANGUAGE=other)
    html = response.content.decode()
    assert response.status_code == 200
    assert f'<html lang="{lang}" dir="{"rtl" if lang == "ar" else "ltr"}">' in html
    assert SIGN_OUT[lang] in html and SIGN_OUT[other] not in html
    assert response["Content-Language"] == lang


def test_a_language_picked_on_the_page_wins_over_the_members(signed_in, member):
    speak(member, "de")
    page = signed_in.get(reverse("portal:home")).content.decode()
    assert 'action="/console/i18n/setlang/"' in page and 'lang="es"' in page

    response = signed_in.post(
        "/console/i18n/setlang/", {"language": "es", "next": reverse("portal:home")}
    )

    assert response.status_code == 302 and response["Location"] == reverse("portal:home")
    assert response.cookies["django_language"]["path"] == "/console/"
    html = signed_in.get(reverse("portal:home")).content.decode()
    assert '<html lang="es" dir="ltr">' in html and "Cerrar sesión" in html


def test_before_sign_in_the_portal_speaks_the_browsers_language(member):
    speak(member, "de")
    response = Client().get(reverse("portal:sign-in"), HTTP_ACCEPT_LANGUAGE="ar,en;q=0.5")
    html = response.content.decode()
    assert '<html lang="ar" dir="rtl">' in html
    assert "أرسل لي رابط تسجيل الدخول" in html
    assert "Accept-Language" in response["Vary"]


def test_signing_out_returns_to_the_browsers_language(signed_in, member):
    speak(member, "de")
    signed_in.post(reverse("portal:sign-out"))
    html = signed_in.get(reverse("portal:sign-in"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert '<html lang="fr" dir="ltr">' in html


def test_the_members_language_stays_in_the_portal(signed_in, member):
    # The same session's next public request is in English, as every public page starts.
    speak(member, "de")
    signed_in.get(reverse("portal:home"))
    landing = signed_in.get("/").content.decode()
    assert "How to check a seal" in landing
