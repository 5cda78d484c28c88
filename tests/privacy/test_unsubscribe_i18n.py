"""The unsubscribe page in the five languages: ``?lang=``, else the language of the member's
mail, else the browser's; right to left in Arabic; still no cookie."""

from __future__ import annotations

import pytest
from django.test import Client

from issuers.models import Member
from privacy.unsubscribe import unsubscribe_token
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db

ASK = {
    "en": "Stop newsletters and announcements?",
    "de": "Newsletter und Mitteilungen abbestellen?",
    "fr": "Ne plus recevoir de lettres d\u2019information ni d\u2019annonces ?",
    "es": "¿Dejar de recibir boletines y comunicados?",
    "ar": "هل تريد إيقاف النشرات الإخبارية والإعلانات؟",
}
DONE = {
    "en": "You are unsubscribed",
    "de": "Sie sind abgemeldet",
    "fr": "Vous êtes désabonné",
    "es": "Se ha dado de baja",
    "ar": "تم إلغاء اشتراكك",
}


def url_of(member: Member, query: str = "") -> str:
    return f"/unsubscribe/{unsubscribe_token(member)}{query}"


@pytest.mark.parametrize("lang", ASK)
def test_the_page_speaks_the_language_of_the_members_mail(issuer, lang):
    member = MemberFactory(issuer=issuer, language=lang)
    client = Client()
    asked = client.get(url_of(member), HTTP_ACCEPT_LANGUAGE="fr" if lang != "fr" else "de")
    html = asked.content.decode()
    assert f'<html lang="{lang}" dir="{"rtl" if lang == "ar" else "ltr"}">' in html
    assert ASK[lang] in html
    assert asked["Content-Language"] == lang
    assert "Accept-Language" not in asked.get("Vary", "")
    # The link in the translated sentence keeps its address and its rel.
    assert '/console/portal/preferences/" rel="noreferrer">' in html

    done = client.post(url_of(member))
    assert DONE[lang] in done.content.decode() and done["Content-Language"] == lang
    assert not asked.cookies and not done.cookies and not client.cookies


def test_lang_in_the_link_wins_over_the_members_language(issuer):
    member = MemberFactory(issuer=issuer, language="de")
    response = Client().get(url_of(member, "?lang=es"), HTTP_ACCEPT_LANGUAGE="fr")
    assert '<html lang="es" dir="ltr">' in response.content.decode()
    assert ASK["es"] in response.content.decode()


def test_without_a_member_the_page_follows_the_browser_and_says_it_varies(issuer):
    member = MemberFactory(issuer=issuer, language="de")
    token_url = url_of(member)
    member.delete()
    response = Client().post(token_url, HTTP_ACCEPT_LANGUAGE="ar;q=0.9, es;q=0.8")
    assert DONE["ar"] in response.content.decode()
    assert '<html lang="ar" dir="rtl">' in response.content.decode()
    assert "Accept-Language" in response["Vary"] and response["Content-Language"] == "ar"


def test_a_damaged_link_is_refused_in_the_browsers_language(issuer):
    member = MemberFactory(issuer=issuer, language="de")
    response = Client().get(f"{url_of(member)[:-2]}zz", HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 400
    assert "Ce lien n\u2019est pas valide" in response.content.decode()
    assert not response.cookies


def test_the_page_leaves_the_next_request_in_english(issuer, client):
    member = MemberFactory(issuer=issuer, language="ar")
    client.get(url_of(member))
    assert "How to check a seal" in client.get("/").content.decode()
