"""Three-way answers (DESIGN §8): ``valid``, ``invalid`` with its reason, or ``unknown``.

Every public answer about a seal ends in one of these, worded the same way on the page, in the
JSON and from the credential verifier, so a relying party reads one member (``verdict``) and
never has to infer validity from a status word or a signature check. ``unknown`` is for an
answer that could not be had (the record unreadable, a moment not yet come): it is never
rounded to ``valid``, and says when the seal was last confirmed valid if that is known.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _

from seals.models import SealStatus

VALID, INVALID, UNKNOWN = "valid", "invalid", "unknown"
# The reasons an answer is ``invalid``; the first five are effective statuses.
REVOKED, SUSPENDED, EXPIRED, NOT_YET_VALID = "revoked", "suspended", "expired", "not_yet_valid"
BAD_SIGNATURE, WRONG_ISSUER, UNKNOWN_SEAL = "bad_signature", "wrong_issuer", "unknown_seal"
REASONS = (REVOKED, SUSPENDED, EXPIRED, NOT_YET_VALID, BAD_SIGNATURE, WRONG_ISSUER, UNKNOWN_SEAL)

_STATUS_REASONS = {
    SealStatus.REVOKED: REVOKED,
    SealStatus.SUSPENDED: SUSPENDED,
    SealStatus.EXPIRED: EXPIRED,
    SealStatus.PENDING: NOT_YET_VALID,
}


@dataclass(frozen=True)
class Verdict:
    verdict: str
    reason: str | None = None
    detail: str = ""
    last_confirmed_valid_at: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        last = self.last_confirmed_valid_at
        return {
            "verdict": self.verdict,
            "reason": self.reason,
            "detail": self.detail,
            "last_confirmed_valid_at": (
                last.isoformat().replace("+00:00", "Z") if last is not None else None
            ),
        }


def reason_words() -> dict[str, str]:
    return {
        REVOKED: _("The seal was revoked."),
        SUSPENDED: _("The seal is suspended."),
        EXPIRED: _("The seal has expired."),
        NOT_YET_VALID: _("The seal is not yet valid."),
        BAD_SIGNATURE: _("The signature does not check out."),
        WRONG_ISSUER: _("It does not name the issuer that signed it."),
        UNKNOWN_SEAL: _("No such seal."),
    }


def verdict_of_status(status: str) -> Verdict:
    """The verdict an effective status gives (``seals.status.effective_status``)."""
    if status == SealStatus.ACTIVE:
        return Verdict(VALID, detail=_("The seal is valid."))
    reason = _STATUS_REASONS[SealStatus(status)]
    return Verdict(INVALID, reason, reason_words()[reason])


def verdict_invalid(reason: str, detail: str = "") -> Verdict:
    if reason not in REASONS:
        raise ValueError(f"{reason!r} is not a verdict reason")
    return Verdict(INVALID, reason, detail or reason_words()[reason])


def verdict_unknown(detail: str, *, last_confirmed_valid_at: datetime | None = None) -> Verdict:
    return Verdict(UNKNOWN, None, detail, last_confirmed_valid_at)
