"""The checks and the three-way verdict they add up to.

A check passes, fails (with the verdict reason it gives) or cannot be made ("unknown": the
evidence could not be had). The verdict is ``invalid`` with the reason of the first failed
check; else ``unknown`` if a required check could not be made; else ``valid``. A check that
cannot be made is never rounded to either side.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

PASS, FAIL, UNKNOWN, SKIP = "pass", "fail", "unknown", "skip"
VALID, INVALID = "valid", "invalid"
MARKS = {PASS: "\u2713", FAIL: "\u2717", UNKNOWN: "?", SKIP: "-"}
EXIT_CODES = {VALID: 0, INVALID: 1, UNKNOWN: 2}

# Reasons, as the platform words them (its verdict), plus one of this verifier's own:
# ``log_mismatch``, evidence the transparency log contradicts or cannot prove.
REVOKED, SUSPENDED, EXPIRED, NOT_YET_VALID = "revoked", "suspended", "expired", "not_yet_valid"
BAD_SIGNATURE, WRONG_ISSUER, UNKNOWN_SEAL = "bad_signature", "wrong_issuer", "unknown_seal"
LOG_MISMATCH = "log_mismatch"
STATUS_REASONS = {
    "revoked": REVOKED,
    "suspended": SUSPENDED,
    "expired": EXPIRED,
    "pending": NOT_YET_VALID,
}


@dataclass
class Check:
    name: str
    outcome: str
    detail: str = ""
    reason: str | None = None
    required: bool = True

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "outcome": self.outcome,
            "detail": self.detail,
            "reason": self.reason,
            "required": self.required,
        }


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def age_words(seconds: float) -> str:
    seconds = max(0, int(seconds))
    for unit, size in (("day", 86_400), ("hour", 3_600), ("minute", 60)):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} s"


@dataclass
class Report:
    subject: str
    checked_at: datetime
    checks: list[Check] = field(default_factory=list)
    # When the status evidence was made, if it was not fetched just now (an offline bundle).
    evidence_at: datetime | None = None
    last_confirmed_valid_at: datetime | None = None
    facts: dict[str, Any] = field(default_factory=dict)

    def add(self, name: str, outcome: str, detail: str = "", **kwargs: Any) -> Check:
        check = Check(name, outcome, detail, **kwargs)
        self.checks.append(check)
        return check

    def failed(self) -> Check | None:
        return next((c for c in self.checks if c.outcome == FAIL), None)

    @property
    def verdict(self) -> str:
        if self.failed() is not None:
            return INVALID
        if any(c.outcome == UNKNOWN and c.required for c in self.checks):
            return UNKNOWN
        if not any(c.outcome == PASS for c in self.checks):
            return UNKNOWN
        return VALID

    @property
    def reason(self) -> str | None:
        failed = self.failed()
        return failed.reason if failed else None

    @property
    def detail(self) -> str:
        failed = self.failed()
        if failed is not None:
            return failed.detail
        if self.verdict == UNKNOWN:
            missing = [c for c in self.checks if c.outcome == UNKNOWN and c.required]
            return missing[0].detail if missing else "Nothing could be checked."
        if self.evidence_at is not None:
            return (
                f"Every check passed, on status evidence of {iso(self.evidence_at)} "
                f"({age_words((self.checked_at - self.evidence_at).total_seconds())} old)."
            )
        return "Every check passed."

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.verdict]

    def as_dict(self) -> dict[str, Any]:
        age = None
        if self.evidence_at is not None:
            age = int((self.checked_at - self.evidence_at).total_seconds())
        return {
            "subject": self.subject,
            "checked_at": iso(self.checked_at),
            "verdict": {
                "verdict": self.verdict,
                "reason": self.reason,
                "detail": self.detail,
                "last_confirmed_valid_at": iso(self.last_confirmed_valid_at),
            },
            "evidence_at": iso(self.evidence_at),
            "evidence_age_seconds": age,
            "checks": [c.as_dict() for c in self.checks],
            **self.facts,
        }

    def text(self) -> str:
        width = max((len(c.name) for c in self.checks), default=0)
        lines = [f"trustseal-verify: {self.subject}"]
        for c in self.checks:
            lines.append(f"  {MARKS[c.outcome]} {c.name.ljust(width)}  {c.detail}".rstrip())
        if self.evidence_at is not None:
            age = age_words((self.checked_at - self.evidence_at).total_seconds())
            lines.append(f"  status evidence of {iso(self.evidence_at)}: {age} old")
        verdict = self.verdict.upper()
        if self.reason:
            verdict += f" ({self.reason})"
        lines.append(f"{verdict}: {self.detail}")
        if self.last_confirmed_valid_at is not None and self.verdict != VALID:
            lines.append(f"last confirmed valid at {iso(self.last_confirmed_valid_at)}")
        return "\n".join(lines)
