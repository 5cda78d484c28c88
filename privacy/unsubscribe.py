"""One-click unsubscribe for non-essential mail (RFC 8058 + RFC 2369).

Every non-essential message (newsletters, surveys, announcements: anything that is not a
service notice about the membership itself) carries ``unsubscribe_headers(member)``. The URL
holds a token signed with ``django.core.signing`` (SECRET_KEY, a purpose-specific salt), so the
endpoint needs no session, no cookie and no login: possession of the link is the authority, as
RFC 8058 intends. Tokens do not expire: an unsubscribe link in a year-old message must still
work. Expiry notices never carry these headers and never check the opt-out.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse

from config.tenancy import scopes_disabled
from issuers.models import Member

SALT = "trustseal.unsubscribe.marketing"


def unsubscribe_token(member: Member) -> str:
    # Signer, not dumps(): no timestamp, so the link is stable and never expires.
    return signing.Signer(salt=SALT).sign_object({"m": member.pk})


def member_id_from_token(token: str) -> int | None:
    """The member id the token was signed for, or None when it is forged or damaged."""
    try:
        payload = signing.Signer(salt=SALT).unsign_object(token)
    except (signing.BadSignature, ValueError):
        return None
    member_id = payload.get("m") if isinstance(payload, dict) else None
    return member_id if isinstance(member_id, int) else None


def member_language(member_id: int) -> str | None:
    """The language the member's mail speaks (``Member.language``), or None when it is gone.
    Any issuer's member: the caller holds a token signed for it."""
    with scopes_disabled():
        return Member.objects.filter(pk=member_id).values_list("language", flat=True).first()


def unsubscribe_url(member: Member) -> str:
    path = reverse("privacy-unsubscribe", kwargs={"token": unsubscribe_token(member)})
    return f"{settings.PUBLIC_BASE_URL}{path}"


def unsubscribe_headers(member: Member) -> dict[str, str]:
    """Headers for a non-essential message to ``member`` (RFC 8058 §3.1: both, HTTPS URL)."""
    return {
        "List-Unsubscribe": f"<{unsubscribe_url(member)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
