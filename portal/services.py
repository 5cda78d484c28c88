"""Signing a member's contact in by a one-time link, and what the portal lets them do.

The link: 256 random bits, mailed to the contact address on file by a worker (through the
outbox), stored only as its SHA-256,
valid ``LINK_LIFETIME``, used once (one conditional UPDATE claims it, so two clicks racing each
other cannot both sign in). Whoever asks is told the same thing whether the address is known or
not; only a known address gets a mail, at most ``LINKS_PER_ADDRESS`` in one lifetime.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from issuers.encryption import blind_index
from issuers.models import Member
from outbox import core as outbox
from portal.models import SignInLink

SEND_TOPIC = "portal.sign_in_link"
LINK_LIFETIME = timedelta(minutes=15)
# Links mailed to one address within one LINK_LIFETIME: enough for a lost mail or two, too few
# to flood a mailbox from a form anyone can fill in.
LINKS_PER_ADDRESS = 3


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def members_of_contact(*, email_hash: str) -> list[Member]:
    """The live members, across issuers, whose contact address has this blind index."""
    if not email_hash:
        return []
    # Across issuers on purpose: the address, not an issuer, is who signs in.
    with scopes_disabled():
        return list(
            Member.objects.filter(contact_email_hash=email_hash, erased_at__isnull=True)
            .select_related("issuer")
            .order_by("issuer__name", "display_name", "pk")
        )


@transaction.atomic
def sign_in_link_request(*, email: str, now: datetime | None = None) -> bool:
    """Owe a sign-in link when ``email`` is a live member's contact. True if one is owed; the
    caller must answer the same either way, so an address cannot be probed.

    The request only writes a row and an outbox message; a worker mints the token and mails it
    (``sign_in_link_send``). So the answer takes about as long for an unknown address as for a
    known one (no mail server in the request), and the token is never in the outbox payload."""
    now = now or timezone.now()
    email_hash = blind_index(email)
    if not members_of_contact(email_hash=email_hash):
        return False
    # The address's spent links go now: nothing else reads them (one query, no periodic job).
    SignInLink.objects.filter(email_hash=email_hash, expires_at__lt=now - LINK_LIFETIME).delete()
    recent = SignInLink.objects.filter(email_hash=email_hash, created_at__gt=now - LINK_LIFETIME)
    if recent.count() >= LINKS_PER_ADDRESS:
        return False
    link = SignInLink.objects.create(
        email_hash=email_hash, created_at=now, expires_at=now + LINK_LIFETIME
    )
    outbox.put(SEND_TOPIC, {"link_id": link.pk})
    return True


def sign_in_link_send(*, link_id: int, now: datetime | None = None) -> bool:
    """Mint the link's token and mail it to the contact address on file. True if mailed.

    Steps, each safe to repeat (the outbox runs a message again after a crash):
    1. claim: set the token's hash with one conditional UPDATE, only while the row has none and
       is unexpired, so a second run never mails a second valid token for one request;
    2. mail the raw token, which exists only in this function and the mail;
    3. if the mail fails, give the claim back (the same conditional UPDATE in reverse) and
       raise, so the outbox tries again with a fresh token.
    """
    now = now or timezone.now()
    token = secrets.token_urlsafe(32)
    digest = _digest(token)
    claimed = SignInLink.objects.filter(
        pk=link_id, token_hash__isnull=True, used_at__isnull=True, expires_at__gt=now
    ).update(token_hash=digest)
    if claimed != 1:
        return False
    email_hash = SignInLink.objects.values_list("email_hash", flat=True).get(pk=link_id)
    members = members_of_contact(email_hash=email_hash)
    if not members:  # the contact changed or was erased since the request
        return False
    url = settings.PUBLIC_BASE_URL + reverse("portal:link", kwargs={"token": token})
    body = render_to_string(
        "portal/email/sign_in.txt",
        {"url": url, "minutes": int(LINK_LIFETIME.total_seconds() // 60), "members": members},
    )
    try:
        # To the address on file, not the one typed (equal by blind index, which ignores case).
        send_mail(
            "[Trustseal] Your sign-in link",
            body,
            settings.DEFAULT_FROM_EMAIL,
            [members[0].contact_email],
        )
    except Exception:
        SignInLink.objects.filter(pk=link_id, token_hash=digest).update(token_hash=None)
        raise
    return True


@dataclass(frozen=True)
class SignedIn:
    """Who a redeemed link signed in: the address (as its blind index) and its members."""

    email_hash: str
    members: list[Member]


@transaction.atomic
def sign_in_link_redeem(*, token: str, now: datetime | None = None) -> SignedIn | None:
    """Use a link once. None when it is unknown, expired, already used, or its address is no
    longer any live member's contact."""
    now = now or timezone.now()
    digest = _digest(token)
    claimed = SignInLink.objects.filter(
        token_hash=digest, used_at__isnull=True, expires_at__gt=now
    ).update(used_at=now)
    if claimed != 1:
        return None
    email_hash = SignInLink.objects.values_list("email_hash", flat=True).get(token_hash=digest)
    members = members_of_contact(email_hash=email_hash)
    return SignedIn(email_hash=email_hash, members=members) if members else None


def member_actor(member: Member) -> str:
    """How seal histories and data-request trails name a member acting for itself."""
    return f"member:{member.pk}"
