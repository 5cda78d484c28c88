"""Historical answers: what a seal's status was at a given moment, and the events that say so.

The answer is replayed from the seal's hash-chained events (seals.chain), never from the
current record: every status-changing event carries the stored status after it (``data
["status"]``), the award and each renewal carry the validity dates, and the effective status at
``at`` is the one rule (``seals.status.effective_status``) applied to what the events up to
``at`` had set. An expiry or a start date therefore falls at its exact instant even though the
worker recorded it later.

The proof that those events are the ones the issuer committed to lives in the transparency log,
which sits above this app (import-linter): it registers itself as the *log evidence* provider
(``register_log_evidence``, from ``transparency.apps``), and this module asks it for each
event's leaf index and inclusion proof against the current checkpoint. Without it the answer
is the same, with ``log: null``.

Moments before the seal was issued and moments still to come get a plain answer, never a
guess: ``before_issue`` (the seal did not exist) and ``future`` (no one can know yet).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from config.tenancy import scopes_disabled
from seals.credentials import jwt_sign
from seals.keys import issuer_id
from seals.models import Seal, SealEvent, SealStatus
from seals.status import effective_status
from seals.verdict import (
    NOT_YET_VALID,
    Verdict,
    verdict_invalid,
    verdict_of_status,
    verdict_unknown,
)

RECORDED, BEFORE_ISSUE, FUTURE = "recorded", "before_issue", "future"
# RFC 3339 §5.6 date-time: "T" (or "t", or a space, §5.6 NOTE) and a "Z" or numeric offset,
# required: a time without an offset would be a guess at the asker's zone.
_RFC3339 = re.compile(
    r"(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})"
)
# A "+" that was not URL-encoded arrives as a space before the offset.
_UNENCODED_PLUS = re.compile(r".*\d{2}:\d{2}:\d{2}(?:\.\d+)? \d{2}:\d{2}")


class BadMoment(ValueError):
    """An ``at`` that is not an RFC 3339 date-time; the message says what to send."""


def parse_at(raw: str) -> datetime:
    """An aware UTC datetime from an RFC 3339 date-time (fractions beyond microseconds are
    truncated: the chain records microseconds)."""
    text = raw.strip()
    if _UNENCODED_PLUS.fullmatch(text):
        raise BadMoment(
            "The time's '+' offset arrived as a space: write it as %2B in the URL "
            "(for example at=2026-05-01T12:00:00%2B02:00), or give the time in UTC with Z."
        )
    match = _RFC3339.fullmatch(text)
    if match is None:
        raise BadMoment(
            f"'at' must be an RFC 3339 date and time with its offset, such as "
            f"2026-05-01T12:00:00Z, not {raw[:40]!r}."
        )
    day, clock, fraction, offset = match.groups()
    fraction = f".{(fraction or '0')[:6]:0<6}"
    offset = "+00:00" if offset in "Zz" else offset
    try:
        moment = datetime.fromisoformat(f"{day}T{clock}{fraction}{offset}")
    except ValueError as exc:
        raise BadMoment(f"'at' is not a real moment ({raw[:40]!r}): {exc}.") from exc
    return moment.astimezone(UTC)


@dataclass(frozen=True)
class PastEvent:
    """The public form of one event (what its transparency-log leaf says)."""

    seq: int
    kind: str
    at: datetime
    status: str | None  # the stored status after it, when the event set one


@dataclass(frozen=True)
class _Dates:
    """What effective_status reads, as the events up to a moment had set it."""

    status: str
    valid_from: datetime
    expires_at: datetime | None


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


@dataclass(frozen=True)
class AtAnswer:
    seal_id: str
    at: datetime
    answer: str  # RECORDED, BEFORE_ISSUE or FUTURE
    status: str | None  # the effective status at ``at``; None unless RECORDED
    verdict: Verdict
    issued_at: datetime | None
    events: tuple[PastEvent, ...]  # those that establish the answer, oldest first


def replay(
    events: Sequence[SealEvent], at: datetime, *, fallback: Seal
) -> tuple[str, tuple[PastEvent, ...]]:
    """The effective status at ``at`` from ``events`` (the seal's, in seq order, the first at
    or before ``at``), and the events that establish it: the award, the last event that set
    the validity dates, the last that set the stored status.

    Dates an event does not carry (events recorded before they were) come from ``fallback``,
    the seal as it is now."""
    status, valid_from, expires_at = SealStatus.PENDING, fallback.valid_from, fallback.expires_at
    issued = dated = stated = None
    for event in events:
        if event.occurred_at > at:
            break
        if issued is None:
            issued = event
        data = event.data
        if event.kind in (SealEvent.Kind.ISSUED, SealEvent.Kind.RENEWED):
            valid_from = _moment(data.get("valid_from")) or valid_from
            expires_at = _moment(data.get("expires_at")) or expires_at
            dated = event
        if "status" in data:
            status = data["status"]
            stated = event
    chosen = {e.seq: e for e in (issued, dated, stated) if e is not None}
    establishing = tuple(
        PastEvent(e.seq, e.kind, e.occurred_at, e.data.get("status"))
        for _, e in sorted(chosen.items())
    )
    return effective_status(_Dates(status, valid_from, expires_at), at), establishing


def _events_of(seal: Seal) -> list[SealEvent]:
    return list(
        SealEvent.objects.filter(seal=seal)
        .order_by("seq")
        .only("seq", "kind", "occurred_at", "data")
    )


def answer_at(seal: Seal, at: datetime, *, now: datetime) -> AtAnswer:
    """What the seal's status was at ``at``, as its chain records it (see the module)."""
    with scopes_disabled():  # a public id names one seal among every issuer's
        events = _events_of(seal)
    issued_at = events[0].occurred_at if events else None
    if at > now:
        current = effective_status(seal, now)
        return AtAnswer(
            seal.public_id,
            at,
            FUTURE,
            None,
            verdict_unknown(
                _("That moment has not come yet: no one can say what the status will be."),
                last_confirmed_valid_at=now if current == SealStatus.ACTIVE else None,
            ),
            issued_at,
            (),
        )
    if issued_at is None or at < issued_at:
        return AtAnswer(
            seal.public_id,
            at,
            BEFORE_ISSUE,
            None,
            verdict_invalid(NOT_YET_VALID, _("The seal had not been issued at that moment.")),
            issued_at,
            (),
        )
    status, establishing = replay(events, at, fallback=seal)
    return AtAnswer(
        seal.public_id, at, RECORDED, status, verdict_of_status(status), issued_at, establishing
    )


# --- the transparency log's evidence, supplied from above ------------------------------------
@dataclass(frozen=True)
class LogEvidence:
    """The current checkpoint and, per event seq it covers, ``{leaf_index, checkpoint_size,
    inclusion_proof}`` (base64 hashes, RFC 9162 §2.1.3)."""

    checkpoint_size: int
    checkpoint_root: str  # base64, as in the signed checkpoint
    checkpoint_url: str
    leaves: dict[int, dict[str, Any]]


EvidenceProvider = Callable[[int, Sequence[int]], LogEvidence | None]
_evidence_provider: EvidenceProvider | None = None


def register_log_evidence(provider: EvidenceProvider | None) -> None:
    """Called by the transparency app when it is ready (and by tests, with None, to unset)."""
    global _evidence_provider
    _evidence_provider = provider


def log_evidence(issuer_pk: int, seqs: Sequence[int]) -> LogEvidence | None:
    if _evidence_provider is None or not seqs:
        return None
    return _evidence_provider(issuer_pk, seqs)


# --- the answer as a document and a signed statement ------------------------------------------
def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


def statement_claims(
    seal: Seal, answer: AtAnswer, evidence: LogEvidence | None, now: datetime
) -> dict[str, Any]:
    """The signed statement's claims. ``status_then`` (not ``status``) so that no verifier can
    mistake it for a status token, which speaks of the present."""
    return {
        "iss": issuer_id(seal.issuer),
        "sub": seal.public_id,
        "iat": int(now.timestamp()),
        "at": _iso(answer.at),
        "answer": answer.answer,
        "status_then": answer.status,
        "verdict": answer.verdict.verdict,
        "reason": answer.verdict.reason,
        "events": [e.seq for e in answer.events],
        "checkpoint_size": evidence.checkpoint_size if evidence else None,
        "checkpoint_root": evidence.checkpoint_root if evidence else None,
    }


def at_document(seal: Seal, at: datetime, *, now: datetime) -> dict[str, Any]:
    """The JSON of ``/verify/<id>.json?at=`` (docs/verification.md, "Historical answers")."""
    answer = answer_at(seal, at, now=now)
    evidence = log_evidence(seal.issuer_id, [e.seq for e in answer.events])
    leaves = evidence.leaves if evidence else {}
    return {
        "seal_id": seal.public_id,
        "at": _iso(answer.at),
        "answer": answer.answer,
        "status": answer.status,
        "verdict": answer.verdict.as_dict(),
        "issued_at": _iso(answer.issued_at),
        "checked_at": _iso(now.replace(microsecond=0)),
        "events": [
            {
                "seq": e.seq,
                "kind": e.kind,
                "at": _iso(e.at),
                "status": e.status,
                "log": leaves.get(e.seq),
            }
            for e in answer.events
        ],
        "checkpoint": (
            {
                "size": evidence.checkpoint_size,
                "root_hash": evidence.checkpoint_root,
                "url": evidence.checkpoint_url,
            }
            if evidence
            else None
        ),
        "links": {
            "verification_page": f"{settings.PUBLIC_BASE_URL}/verify/{seal.public_id}",
        },
        "statement": jwt_sign(
            issuer=seal.issuer, payload=statement_claims(seal, answer, evidence, now)
        ),
    }
