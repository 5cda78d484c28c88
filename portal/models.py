"""The member portal's one table: sign-in links, stored only as the SHA-256 of their token."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class SignInLink(models.Model):
    """A one-time sign-in link mailed to a member's contact address.

    Not issuer-scoped: one address may be the contact of members of several issuers, and the
    link signs its holder in as that address; which member they act for is chosen afterwards
    among the members whose contact it still is. No address is stored, only its blind index
    (issuers.encryption.blind_index), the same keyed hash Member.contact_email_hash holds.
    """

    # None until a worker mints the token and mails it (portal.services.sign_in_link_send).
    token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    email_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["email_hash", "created_at"], name="signin_link_recent")]

    def __str__(self) -> str:
        return f"sign-in link {self.pk}"
