"""Mail that reads well: the member's language, the seal image, the renewal link or the issuer's
contact, the portal link; for announcements and expiry notices alike."""

from __future__ import annotations

import pytest
from django.core import mail
from django.utils import timezone

from announcements.services import announcement_create, announcement_send
from effects.notices import notice_send, notices_plan
from issuers.services import programme_create
from outbox import core as outbox
from seals.models import Notice
from seals.registry import member_update, programme_update
from tests.factories import IssuerFactory, MemberFactory, award


@pytest.fixture
def issuer(db):
    return IssuerFactory(public_email="office@association.example")


def _expiry_notice(member) -> mail.EmailMessage:
    notices_plan(now=timezone.now())
    notice_send(notice_id=Notice.objects.get(state="pending").pk, now=timezone.now())
    return mail.outbox[-1]


@pytest.mark.parametrize(
    ("lang", "subject_words", "body_words"),
    [
        ("en", "expires in 7 days", "This is a service message"),
        ("de", "läuft in 7 Tagen ab", "Dies ist eine Servicenachricht"),
        ("fr", "expire dans 7 jours", "Ceci est un message de service"),
        ("es", "vence en 7 días", "Este es un mensaje de servicio"),
        ("ar", "خلال 7 أيام", "هذه رسالة خدمة"),
    ],
)
def test_the_expiry_notice_speaks_the_members_language(issuer, lang, subject_words, body_words):
    member = MemberFactory(issuer=issuer, language=lang)
    award(member, days=5)
    message = _expiry_notice(member)
    assert subject_words in message.subject
    assert body_words in message.body
    html = message.alternatives[0].content
    assert f'lang="{lang}"' in html
    assert ('dir="rtl"' in html) == (lang == "ar")
    assert message.extra_headers["Content-Language"] == lang
    seal = member.seals.get()
    image = f"/s/{seal.public_id}.png?size=medium" + (f"&amp;lang={lang}" if lang != "en" else "")
    assert image in html
    assert "/console/portal/" in html and "/console/portal/" in message.body


def test_the_notice_links_to_the_programmes_renewal_page_when_it_has_one(issuer):
    member = MemberFactory(issuer=issuer)
    seal = award(member, days=5)
    programme_update(programme=seal.programme, renewal_url="https://bakers.example/renew?a=1&b=2")
    message = _expiry_notice(member)
    html = message.alternatives[0].content
    assert 'href="https://bakers.example/renew?a=1&amp;b=2"' in html
    assert "https://bakers.example/renew?a=1&b=2" in message.body
    assert "contact " + issuer.name not in message.body
    assert "mailto:" not in html


def test_without_a_renewal_link_the_notice_says_contact_the_issuer(issuer):
    member = MemberFactory(issuer=issuer)
    award(member, days=5)
    message = _expiry_notice(member)
    assert f"contact {issuer.name} to renew your membership" in message.body
    assert issuer.public_email in message.body
    assert f'href="mailto:{issuer.public_email}"' in message.alternatives[0].content


def test_the_notice_subject_names_the_issuer_once_in_every_language(issuer):
    programme = programme_create(issuer=issuer, slug="gold", name=f"{issuer.name} Gold")
    member = MemberFactory(issuer=issuer, language="fr")
    award(member, days=5, programme=programme)
    message = _expiry_notice(member)
    assert message.subject.count(issuer.name) == 1, message.subject


def test_a_notice_sent_to_the_issuer_is_in_the_default_language(issuer):
    member = MemberFactory(issuer=issuer, language="de")
    member_update(member=member, contact_email="")
    award(member, days=5)
    message = _expiry_notice(member)
    assert message.to == [issuer.public_email]
    assert "expires in 7 days" in message.subject


def test_an_announcement_is_framed_in_each_members_language(issuer):
    german, spanish = (
        MemberFactory(issuer=issuer, language="de"),
        MemberFactory(issuer=issuer, language="es"),
    )
    announcement = announcement_create(
        issuer=issuer, subject="Jahrestreffen", body="Am 3. Mai.", programme=None, actor="t"
    )
    announcement_send(announcement=announcement, actor="t", now=timezone.now())
    outbox.drain()
    by_to = {m.to[0]: m for m in mail.outbox}
    assert "Mitteilungen abbestellen" in by_to[german.contact_email].body
    assert "Darse de baja de los anuncios" in by_to[spanish.contact_email].body
    assert 'lang="es"' in by_to[spanish.contact_email].alternatives[0].content


def test_the_api_reads_and_writes_the_renewal_link_and_the_members_language(api):
    programme = api.post("/programmes", {"slug": "gold", "name": "Gold"}).json()
    assert programme["renewal_url"] == ""
    changed = api.patch("/programmes/gold", {"renewal_url": "https://renew.example/"})
    assert changed.status_code == 200 and changed.json()["renewal_url"] == "https://renew.example/"
    member = api.post("/members", {"external_ref": "A1", "legal_name": "A Ltd", "language": "ar"})
    assert member.status_code == 201 and member.json()["language"] == "ar"
    refused = api.patch(f"/members/{member.json()['id']}", {"language": "xx"})
    assert refused.status_code == 400
    assert refused["Content-Type"].startswith("application/problem+json")
