"""The announcement as a member receives it: text and HTML in their language, with RFC 8058
one-click unsubscribe headers and a link to their communication preferences."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives

from announcements.models import Announcement
from effects.mail import (
    Rendered,
    mail_language,
    portal_url,
    preferences_url,
    render_mail,
    seal_image_url,
    sender_of,
)
from issuers.models import Member
from privacy.unsubscribe import unsubscribe_headers, unsubscribe_url
from seals import links
from seals.models import Seal, SealStatus

TEMPLATE = "announcements/email/announcement"


def _host() -> str:
    return urlsplit(settings.PUBLIC_BASE_URL).hostname or "trustseal.local"


def announcement_message_id(announcement: Announcement, member: Member) -> str:
    """Stable per recipient: a re-send after a crash is the same message to the mail client."""
    return f"<announcement-{announcement.pk}.{member.pk}@{_host()}>"


def _seal_of(announcement: Announcement, member: Member) -> Seal | None:
    """The seal the mail shows: the member's live one in the announcement's programme, or its
    newest live one."""
    if not member.pk:  # the preview's made-up member
        return None
    seals = Seal.objects.filter(member=member).exclude(status=SealStatus.REVOKED)
    if announcement.programme_id is not None:
        seals = seals.filter(programme_id=announcement.programme_id)
    return seals.select_related("programme", "issuer", "member").order_by("-created_at").first()


def announcement_render(
    announcement: Announcement, member: Member, *, lang: str | None = None
) -> Rendered:
    """What ``member`` reads; the console's preview calls it with a sample member."""
    lang = lang or mail_language(member)
    seal = _seal_of(announcement, member)
    context = {
        "announcement": announcement,
        "issuer": announcement.issuer,
        "member": member,
        "subject": announcement.subject,
        "seal": seal,
        "image_url": seal_image_url(seal, lang) if seal else "",
        "image_alt": links.seal_alt(seal, lang) if seal else "",
        "verify_url": (links.verify_url(seal) + links.lang_query(lang, first=True)) if seal else "",
        "portal_url": portal_url(),
        "preferences_url": preferences_url(),
        "unsubscribe_url": unsubscribe_url(member) if member.pk else preferences_url(),
    }
    return render_mail(TEMPLATE, context, lang=lang)


def announcement_message(announcement: Announcement, member: Member) -> EmailMultiAlternatives:
    lang = mail_language(member)
    rendered = announcement_render(announcement, member, lang=lang)
    issuer = announcement.issuer
    message = EmailMultiAlternatives(
        subject=announcement.subject,
        body=rendered.text,
        from_email=sender_of(issuer),
        to=[member.contact_email],
        reply_to=[issuer.public_email] if issuer.public_email else None,
        headers={
            "Message-ID": announcement_message_id(announcement, member),
            # RFC 2919: one list per issuer, so a mail client can file and filter it.
            "List-Id": f"{issuer.name} <announcements.{issuer.slug}.{_host()}>",
            # RFC 8058 §3.1: the HTTPS URL and the One-Click marker. No mailto: the platform
            # receives no mail, and a mailto the mail client may prefer would go unheard.
            **unsubscribe_headers(member),
            "Precedence": "bulk",
            "Content-Language": lang,
        },
    )
    message.attach_alternative(rendered.html, "text/html")
    return message
