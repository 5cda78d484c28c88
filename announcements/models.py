"""Announcements: what an issuer's staff write to its members, and one row per recipient."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from config.tenancy import IssuerScopedManager
from issuers.models import Issuer, Member, Programme


class Announcement(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"

    issuer = models.ForeignKey(Issuer, on_delete=models.CASCADE, related_name="announcements")
    subject = models.CharField(max_length=200)
    # Plain text; paragraphs are blank-line separated, rendered escaped (announcements.mail).
    body = models.TextField()
    # None: every member of the issuer; else the members holding a live seal of it.
    programme = models.ForeignKey(
        Programme, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    created_by = models.CharField(max_length=100)
    created_at = models.DateTimeField(default=timezone.now)
    sent_by = models.CharField(max_length=100, blank=True, default="")
    sent_at = models.DateTimeField(null=True, blank=True)  # when sending was asked for
    # Set in the transaction that wrote the recipient rows: who is addressed is fixed once.
    planned_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = IssuerScopedManager()

    class Meta:
        indexes = [models.Index(fields=["issuer", "-created_at"], name="announcement_recent")]

    def __str__(self) -> str:
        return self.subject


class RecipientManager(IssuerScopedManager["Recipient"]):
    issuer_path = "announcement__issuer"


class Recipient(models.Model):
    """One member addressed by one announcement; unique, so no member is mailed it twice."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        CLAIMED = "claimed", "Claimed"
        SENT = "sent", "Sent"
        SKIPPED = "skipped", "Skipped"
        FAILED = "failed", "Failed"

    class Reason(models.TextChoices):
        NONE = "", "—"
        OPTED_OUT = "opted_out", "Opted out of announcements"
        RESTRICTED = "restricted", "Processing restricted"
        ERASED = "erased", "Erased"
        NO_ADDRESS = "no_address", "No contact e-mail"

    announcement = models.ForeignKey(
        Announcement, on_delete=models.CASCADE, related_name="recipients"
    )
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+")
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    reason = models.CharField(max_length=12, choices=Reason.choices, blank=True, default="")
    attempts = models.PositiveSmallIntegerField(default=0)
    due_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=200, blank=True, default="")

    objects = RecipientManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["announcement", "member"], name="one_recipient_per_member"
            )
        ]
        indexes = [models.Index(fields=["announcement", "state", "due_at"], name="recipient_due")]

    def __str__(self) -> str:
        return f"announcement {self.announcement_id} to member {self.member_id} ({self.state})"
