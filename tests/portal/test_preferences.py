"""The portal's communication preferences: announcements, the public register, mail language."""

from __future__ import annotations

import re

from django.urls import reverse
from django_scopes import scopes_disabled

from issuers.models import Member


def reload(member: Member) -> Member:
    with scopes_disabled():
        return Member.objects.get(pk=member.pk)


def test_the_register_switch_shows_what_is_in_effect_and_saves_the_members_choice(
    signed_in, member
):
    assert member.register_listed is None and member.issuer.register_lists_members
    page = signed_in.get(reverse("portal:preferences")).content.decode()
    assert 'name="register_listed"' in page
    assert re.search(r'<input type="checkbox" name="register_listed"[^>]* checked>', page)
    # Saved untouched: the member keeps following the issuer's default.
    signed_in.post(
        reverse("portal:preferences"),
        {"announcements": "on", "register_listed": "on", "language": "en"},
    )
    assert reload(member).register_listed is None
    # Unticked: the member's own choice, out of the register.
    signed_in.post(reverse("portal:preferences"), {"announcements": "on", "language": "en"})
    assert reload(member).register_listed is False


def test_the_member_chooses_the_language_of_its_mail(signed_in, member):
    response = signed_in.post(
        reverse("portal:preferences"), {"announcements": "on", "language": "fr"}
    )
    assert response.status_code == 302
    assert reload(member).language == "fr"
    bad = signed_in.post(reverse("portal:preferences"), {"language": "xx"})
    assert bad.status_code == 200 and reload(member).language == "fr"


def test_the_portal_speaks_the_language_chosen_for_the_members_mail(signed_in, member):
    signed_in.post(reverse("portal:preferences"), {"announcements": "on", "language": "de"})
    page = signed_in.get(reverse("portal:preferences"), HTTP_ACCEPT_LANGUAGE="fr")
    html = page.content.decode()
    assert "Kommunikationseinstellungen" in html and "Mitteilungen meines Ausstellers" in html
