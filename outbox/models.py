"""The outbox table: one row per side effect still owed."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone


class Message(models.Model):
    """A side effect to carry out (a webhook delivery, a notice, an import run, ...).

    Written in the same transaction as the change that owes it, so the two commit together or
    not at all. The row is deleted once its handler has finished; until then the relay keeps
    handing it to the broker (see outbox.core for the states and their timings).
    """

    topic = models.CharField(max_length=64)
    payload = models.JSONField(default=dict)
    # Optional de-duplication: at most one pending message per (topic, key), e.g. one status-list
    # regeneration per issuer however many seals changed.
    key = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    due_at = models.DateTimeField(default=timezone.now)
    # Last successful hand-off to the broker; None while the broker has never taken it.
    relayed_at = models.DateTimeField(null=True, blank=True)
    # A worker holds the message until then; past it the worker is presumed dead.
    leased_until = models.DateTimeField(null=True, blank=True)
    # Set by a keyed ``put`` that finds the message pending; cleared by the claim. A run that
    # ends with it set saw a change arrive while it ran, so the message runs once more.
    again = models.BooleanField(default=False)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")

    class Meta:
        indexes = [models.Index(fields=["due_at"], name="outbox_message_due")]
        constraints = [
            models.UniqueConstraint(
                fields=["topic", "key"], condition=~Q(key=""), name="outbox_one_pending_per_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.topic} #{self.pk}"
