"""Seals, their hash-chained history, signing keys, status lists, notices and daily counters."""

from __future__ import annotations

import secrets
from typing import TypeVar

from django.db import models
from django.utils import timezone

from config.tenancy import IssuerScopedManager
from issuers.encryption import EncryptedTextField
from issuers.models import Issuer, Member, Programme

# 16 random bytes = 128 bits, URL-safe base64 without padding: 22 characters.
SEAL_ID_BYTES = 16
SEAL_ID_PATTERN = r"[A-Za-z0-9_-]{22}"


_M = TypeVar("_M", bound=models.Model)


def new_seal_id() -> str:
    return secrets.token_urlsafe(SEAL_ID_BYTES)


class SealStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    ACTIVE = "active", "Active"
    SUSPENDED = "suspended", "Suspended"
    REVOKED = "revoked", "Revoked"
    EXPIRED = "expired", "Expired"


class Seal(models.Model):
    public_id = models.CharField(max_length=32, unique=True, default=new_seal_id, editable=False)
    # Denormalised from member.issuer so every issuer-scoped query is one indexed filter.
    issuer = models.ForeignKey(Issuer, on_delete=models.CASCADE, related_name="seals")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="seals")
    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="seals")
    status = models.CharField(max_length=12, choices=SealStatus.choices, default=SealStatus.ACTIVE)
    status_reason = models.CharField(max_length=500, blank=True)
    status_changed_at = models.DateTimeField(default=timezone.now)
    valid_from = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    # Bitstring Status List position: list number + index inside it (random, stable).
    status_list = models.PositiveIntegerField(null=True, blank=True, editable=False)
    status_list_index = models.PositiveIntegerField(null=True, blank=True, editable=False)
    # Bumped on every change: cache keys and ETags derive from it.
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = IssuerScopedManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["issuer", "status_list", "status_list_index"],
                name="one_seal_per_status_list_bit",
            )
        ]
        indexes = [
            models.Index(fields=["status", "expires_at"], name="seal_due_expiry"),
            models.Index(fields=["status", "valid_from"], name="seal_due_start"),
            # The seal list's cursor order, and the same under a stored-status filter
            # (revoked, suspended, and the swept part of expired).
            models.Index(fields=["issuer", "created_at", "id"], name="seal_created"),
            models.Index(
                fields=["issuer", "status", "created_at", "id"], name="seal_status_created"
            ),
            # The date-dependent part of the effective status (seals.selectors.seal_status_q):
            # dated seals past their expiry, not yet swept; and ?expiring_before=. With the
            # member, so the member list reads those seals' holders from here alone
            # (seals.selectors._holders_id_range).
            models.Index(
                fields=["issuer", "status", "expires_at"],
                include=["member"],
                name="seal_status_expiry_holder",
            ),
            models.Index(fields=["issuer", "expires_at"], name="seal_expiry"),
            # ?programme=: a programme is one issuer's, so it leads (the FK index is its prefix).
            models.Index(fields=["programme", "created_at", "id"], name="seal_programme_created"),
            # The member list's seal filters: the lowest and the highest member holding a
            # matching seal, a stored status at a time (seals.selectors._holders_id_range). The
            # columns a filter tests are keys, not INCLUDE, so a scan for the first seal meeting
            # one tests them in the index pages (7.8 ms against 21 ms past 187,000 entries).
            models.Index(
                fields=["issuer", "status", "member", "expires_at", "valid_from", "programme"],
                name="seal_status_member",
            ),
        ]

    def __str__(self) -> str:
        return self.public_id


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("SealEvent is append-only; use seals.services.record_event.")

    def delete(self):
        raise TypeError("SealEvent is append-only.")

    def erase_private_data(self) -> int:
        """The one sanctioned change: destroy personal payloads (outside the hashed part)."""
        return super().update(private_data=None)


SealEventManager = IssuerScopedManager.from_queryset(AppendOnlyQuerySet)


class SealEvent(models.Model):
    """One entry of an issuer's tamper-evident history.

    ``hash = sha256(prev_hash ‖ canonical JSON of the event)``; ``data`` is hashed and must hold
    no personal data; ``private_data`` is not hashed (its salted digest is, inside ``data``) so
    it can be erased without breaking the chain.
    """

    class Kind(models.TextChoices):
        ISSUED = "issued", "Issued"
        RENEWED = "renewed", "Renewed"
        ACTIVATED = "activated", "Activated"
        SUSPENDED = "suspended", "Suspended"
        REINSTATED = "reinstated", "Reinstated"
        REVOKED = "revoked", "Revoked"
        EXPIRED = "expired", "Expired"
        DETAILS_CHANGED = "details_changed", "Details changed"
        ERASED = "erased", "Erased"

    issuer = models.ForeignKey(Issuer, on_delete=models.PROTECT, related_name="events")
    seal = models.ForeignKey(Seal, on_delete=models.PROTECT, related_name="events")
    seq = models.PositiveBigIntegerField()
    kind = models.CharField(max_length=20, choices=Kind.choices)
    actor = models.CharField(max_length=100)
    occurred_at = models.DateTimeField()
    data = models.JSONField(default=dict)
    private_data = models.JSONField(null=True, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    objects = SealEventManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["issuer", "seq"], name="one_event_per_chain_position")
        ]
        ordering = ["issuer_id", "seq"]

    def __str__(self) -> str:
        return f"{self.kind} #{self.seq}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise TypeError("SealEvent is append-only; it cannot be changed once written.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("SealEvent is append-only; it cannot be deleted.")


class SigningKey(models.Model):
    class Algorithm(models.TextChoices):
        ES256 = "ES256", "ES256 (P-256)"
        RS256 = "RS256", "RS256 (RSA 2048)"
        # Ed25519, for Data Integrity proofs (eddsa-rdfc-2022) only: never a JWT algorithm
        # here, since the 1EdTech validator accepts only ES256 and RS256 JWTs.
        EDDSA = "EdDSA", "EdDSA (Ed25519, Data Integrity proofs)"

    class State(models.TextChoices):
        ACTIVE = "active", "Active"
        RETIRED = "retired", "Retired (still published)"
        REVOKED = "revoked", "Revoked (withdrawn)"

    issuer = models.ForeignKey(Issuer, on_delete=models.CASCADE, related_name="signing_keys")
    key_id = models.CharField(max_length=40, help_text="Last path segment of the kid URL.")
    algorithm = models.CharField(max_length=5, choices=Algorithm.choices, default=Algorithm.ES256)
    public_jwk = models.JSONField()
    private_key_encrypted = models.BinaryField(editable=False)
    state = models.CharField(max_length=10, choices=State.choices, default=State.ACTIVE)
    created_at = models.DateTimeField(default=timezone.now)
    retired_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = IssuerScopedManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["issuer", "key_id"], name="key_id_per_issuer"),
            # One active key per use: one signs JWTs (ES256 or RS256), one signs Data
            # Integrity proofs (Ed25519).
            models.UniqueConstraint(
                fields=["issuer"],
                condition=models.Q(state="active") & ~models.Q(algorithm="EdDSA"),
                name="one_active_signing_key_per_issuer",
            ),
            models.UniqueConstraint(
                fields=["issuer"],
                condition=models.Q(state="active", algorithm="EdDSA"),
                name="one_active_ed25519_key_per_issuer",
            ),
        ]

    def __str__(self) -> str:
        return self.key_id


class StatusList(models.Model):
    """One W3C Bitstring Status List of an issuer for one purpose."""

    class Purpose(models.TextChoices):
        REVOCATION = "revocation", "Revocation"
        SUSPENSION = "suspension", "Suspension"

    issuer = models.ForeignKey(Issuer, on_delete=models.CASCADE, related_name="status_lists")
    purpose = models.CharField(max_length=12, choices=Purpose.choices)
    number = models.PositiveIntegerField(default=0)
    size = models.PositiveIntegerField(default=131072)
    encoded = models.TextField(blank=True, help_text="GZIP + base64url multibase ('u' prefix).")
    version = models.PositiveIntegerField(default=0)
    # The version ``encoded`` and ``jwt`` were built from; behind ``version`` means dirty.
    encoded_version = models.PositiveIntegerField(default=0)
    jwt = models.TextField(blank=True, help_text="The signed status list credential (VC-JWT).")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["issuer", "purpose", "number"], name="one_list_per_purpose_number"
            )
        ]

    def __str__(self) -> str:
        return f"{self.purpose} list {self.number}"


class CancelledStatusEntry(models.Model):
    """A status-list position whose credentials a suspension cancelled for good.

    A verifier that reads only a credential's one ``credentialStatus`` (the revocation entry,
    all OB 3.0 allows) must see a suspension too, and a revocation bit may never be cleared
    (Bitstring Status List §2.1): so a suspension sets the revocation bit of the seal's
    position for ever (this row), and reinstatement moves the seal to a fresh position, whose
    credentials are new ones. docs/design.md §8 has the reasons.
    """

    issuer = models.ForeignKey(Issuer, on_delete=models.CASCADE, related_name="+")
    status_list = models.PositiveIntegerField()
    status_list_index = models.PositiveIntegerField()
    seal = models.ForeignKey(Seal, on_delete=models.CASCADE, related_name="cancelled_entries")
    cancelled_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["issuer", "status_list", "status_list_index"],
                name="one_cancellation_per_status_list_bit",
            )
        ]

    def __str__(self) -> str:
        return f"list {self.status_list} index {self.status_list_index} (cancelled)"


class ThroughSealManager(IssuerScopedManager[_M]):
    """Rows an issuer owns through their seal (notices, statistics)."""

    issuer_path = "seal__issuer"


class Notice(models.Model):
    class Kind(models.TextChoices):
        EXPIRY_30D = "expiry_30d", "30 days before expiry"
        EXPIRY_7D = "expiry_7d", "7 days before expiry"
        EXPIRY_1D = "expiry_1d", "1 day before expiry"
        EXPIRED = "expired", "Expired"

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        CLAIMED = "claimed", "Claimed"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"

    seal = models.ForeignKey(Seal, on_delete=models.CASCADE, related_name="notices")
    kind = models.CharField(max_length=12)
    cycle = models.DateField(help_text="The expiry date this notice warns about.")
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    due_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    recipient_is_issuer = models.BooleanField(default=False)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = ThroughSealManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["seal", "kind", "cycle"], name="one_notice_per_cycle")
        ]
        indexes = [models.Index(fields=["state", "due_at"])]

    def __str__(self) -> str:
        return f"{self.kind} for seal {self.seal_id} ({self.state})"


class DailyStat(models.Model):
    """Per seal per day; counted in the cache, flushed by a worker. No IPs, no cookies."""

    seal = models.ForeignKey(Seal, on_delete=models.CASCADE, related_name="daily_stats")
    day = models.DateField()
    impressions = models.PositiveBigIntegerField(default=0)
    verification_views = models.PositiveBigIntegerField(default=0)
    misuse_hits = models.PositiveBigIntegerField(default=0)

    objects = ThroughSealManager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["seal", "day"], name="one_stat_per_day")]

    def __str__(self) -> str:
        return f"seal {self.seal_id} on {self.day}"


class MonthlyStat(models.Model):
    """Per seal per calendar month: what DailyStat rows become once older than the retention
    period (privacy.retention), so long-term totals survive without day-level detail."""

    seal = models.ForeignKey(Seal, on_delete=models.CASCADE, related_name="monthly_stats")
    month = models.DateField(help_text="The first day of the month.")
    impressions = models.PositiveBigIntegerField(default=0)
    verification_views = models.PositiveBigIntegerField(default=0)
    misuse_hits = models.PositiveBigIntegerField(default=0)

    objects = ThroughSealManager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["seal", "month"], name="one_stat_per_month")]

    def __str__(self) -> str:
        return f"seal {self.seal_id} in {self.month:%Y-%m}"


class SealMisuseHost(models.Model):
    """A foreign host a seal was shown on (seals.shown_on: never a path, never an address), with
    its first and last sighting. Written by the stats flush; inserting the row is what tells
    the issuer (the ``seal.misuse_detected`` webhook, in the same transaction)."""

    seal = models.ForeignKey(Seal, on_delete=models.CASCADE, related_name="misuse_hosts")
    host = models.CharField(max_length=260, help_text="IDNA A-label, with :port if not default.")
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()

    objects = ThroughSealManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["seal", "host"], name="one_misuse_host_per_seal")
        ]
        indexes = [models.Index(fields=["first_seen"], name="misuse_host_first_seen")]

    def __str__(self) -> str:
        return f"{self.host} for seal {self.seal_id}"


class SealMisuseHostDay(models.Model):
    """Misuse hits per seal, per UTC day, per foreign host (next to DailyStat's total)."""

    seal = models.ForeignKey(Seal, on_delete=models.CASCADE, related_name="misuse_host_days")
    day = models.DateField()
    host = models.CharField(max_length=260)
    hits = models.PositiveBigIntegerField(default=0)

    objects = ThroughSealManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["seal", "day", "host"], name="one_misuse_host_per_seal_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.host} for seal {self.seal_id} on {self.day}"


class MisuseDigest(models.Model):
    """The daily e-mail to an issuer listing the foreign hosts first seen on ``day``: one row
    per issuer and day (the database refuses a second), claimed before it is sent."""

    class State(models.TextChoices):
        PENDING = "pending"
        CLAIMED = "claimed"
        SENT = "sent"
        FAILED = "failed"

    issuer = models.ForeignKey(Issuer, on_delete=models.CASCADE, related_name="misuse_digests")
    day = models.DateField(help_text="The UTC day whose new hosts it lists.")
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    hosts = models.PositiveIntegerField(default=0, help_text="New hosts listed.")
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    objects = IssuerScopedManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["issuer", "day"], name="one_misuse_digest_per_day")
        ]

    def __str__(self) -> str:
        return f"misuse digest of issuer {self.issuer_id} for {self.day}"


class MisuseReport(models.Model):
    """A visitor's report that a seal is shown where it should not be (the verification page's
    "Report misuse" form). Read by the issuer's staff in the console; nothing here is public."""

    issuer = models.ForeignKey(Issuer, on_delete=models.CASCADE, related_name="misuse_reports")
    seal = models.ForeignKey(Seal, on_delete=models.CASCADE, related_name="misuse_reports")
    # Personal data when given (the reporter's address): encrypted at rest like a contact's.
    reporter_email = EncryptedTextField(blank=True, default="")
    site_url = models.CharField(max_length=500)
    site_host = models.CharField(max_length=253, blank=True)
    message = models.TextField(max_length=2000)
    created_at = models.DateTimeField(default=timezone.now)
    # Set once the issuer's e-mail went out (the outbox handler skips a report already sent).
    notified_at = models.DateTimeField(null=True, blank=True)

    objects = IssuerScopedManager()

    class Meta:
        indexes = [
            models.Index(fields=["issuer", "created_at", "id"], name="misuse_report_created")
        ]

    def __str__(self) -> str:
        return f"misuse report on {self.seal_id} at {self.created_at:%Y-%m-%d}"
