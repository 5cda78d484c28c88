"""Reads about announcements: who one addresses, who it skips and why, and its counts."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from announcements.models import Announcement, Recipient
from issuers.models import Member
from privacy.services import member_accepts_non_essential_mail
from seals.models import Seal, SealStatus


def skip_reason(member: Member) -> str:
    """Why ``member`` gets no announcement, or ''. Whether is privacy's one rule for all
    non-essential mail; the reason names the first that applies, erasure and restriction (GDPR
    art. 18) first: using the stored address at all is processing they forbid."""
    if member_accepts_non_essential_mail(member):
        return ""
    if member.erased_at is not None:
        return Recipient.Reason.ERASED
    if member.restricted:
        return Recipient.Reason.RESTRICTED
    if member.marketing_opt_out:
        return Recipient.Reason.OPTED_OUT
    return Recipient.Reason.NO_ADDRESS


def addressed_members(announcement: Announcement) -> Q:
    """Every member of the issuer, or those holding a seal of the programme not revoked."""
    if announcement.programme_id is None:
        return Q()
    seals = Seal.objects.filter(member=OuterRef("pk"), programme_id=announcement.programme_id)
    return Q(Exists(seals.exclude(status=SealStatus.REVOKED)))


def sample_member(announcement: Announcement) -> Member:
    """Whom the preview shows the announcement to: the first member it would reach, else a
    made-up one (never saved)."""
    candidates = (
        Member.objects.filter(addressed_members(announcement))
        .filter(erased_at__isnull=True, restricted=False, marketing_opt_out=False)
        .order_by("pk")
    )
    for member in candidates[:20]:
        if not skip_reason(member):
            return member
    return Member(
        issuer=announcement.issuer, display_name="Example member", legal_name="Example member"
    )


@dataclass(frozen=True)
class Counts:
    recipients: int = 0
    sent: int = 0
    pending: int = 0
    failed: int = 0
    skipped: int = 0
    # reason → how many, in Recipient.Reason order, reasons with none left out
    skipped_by_reason: dict[str, int] = field(default_factory=dict)


def announcement_counts(announcement: Announcement) -> Counts:
    rows = (
        Recipient.objects.filter(announcement=announcement)
        .values("state", "reason")
        .annotate(n=Count("pk"))
    )
    by_state: dict[str, int] = {}
    by_reason: dict[str, int] = {}
    for row in rows:
        by_state[row["state"]] = by_state.get(row["state"], 0) + row["n"]
        if row["state"] == Recipient.State.SKIPPED:
            by_reason[row["reason"]] = by_reason.get(row["reason"], 0) + row["n"]
    return Counts(
        recipients=sum(by_state.values()),
        sent=by_state.get(Recipient.State.SENT, 0),
        pending=by_state.get(Recipient.State.PENDING, 0) + by_state.get(Recipient.State.CLAIMED, 0),
        failed=by_state.get(Recipient.State.FAILED, 0),
        skipped=by_state.get(Recipient.State.SKIPPED, 0),
        skipped_by_reason={r: by_reason[r] for r in Recipient.Reason.values if r in by_reason},
    )


def announcements_recent(limit: int = 100) -> QuerySet[Announcement]:
    """The issuer's announcements (the caller's scope), newest first, with their counts."""
    by = "recipients__state"
    return (
        Announcement.objects.select_related("programme")
        .annotate(
            n_recipients=Count("recipients"),
            n_sent=Count("recipients", filter=Q(**{by: Recipient.State.SENT})),
            n_skipped=Count("recipients", filter=Q(**{by: Recipient.State.SKIPPED})),
            n_failed=Count("recipients", filter=Q(**{by: Recipient.State.FAILED})),
        )
        .order_by("-created_at", "-pk")[:limit]
    )


def member_announcements(member: Member) -> list[dict[str, object]]:
    """Each announcement addressed to ``member``, for its data export: what it said, whether it
    was sent or why not (the export's ``announcements`` section, privacy.export_sections)."""
    rows = (
        Recipient.objects.filter(member=member)
        .select_related("announcement")
        .order_by("announcement__planned_at", "pk")
    )
    return [
        {
            "subject": r.announcement.subject,
            "body": r.announcement.body,
            "state": r.state,
            "skipped_because": r.reason or None,
            "sent_at": r.sent_at.isoformat() if r.sent_at else None,
        }
        for r in rows
    ]
