"""Checking a seal: its credential, the issuer's key, the status lists, the status token and
its transparency-log leaves, online or from a bundle.

Each piece of evidence comes from an ``Evidence`` (fetched from the issuer's own URLs, or read
from an offline bundle); the checks are the same either way. Online, nothing in the bundle the
server hands out is trusted as such: keys come from the credential's ``kid`` URL, status lists
from the credential's ``statusListCredential``, the log's checkpoint is verified with its key
and its leaves with their inclusion proofs, and a newer checkpoint must extend the bundle's.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from trustseal_verify import jose, merkle, note, statuslist
from trustseal_verify.checks import (
    BAD_SIGNATURE,
    EXPIRED,
    FAIL,
    LOG_MISMATCH,
    NOT_YET_VALID,
    PASS,
    REVOKED,
    SKIP,
    STATUS_REASONS,
    SUSPENDED,
    UNKNOWN,
    UNKNOWN_SEAL,
    WRONG_ISSUER,
    Report,
    age_words,
    iso,
)
from trustseal_verify.fetch import Fetch, NotFound, Unreachable

CLOCK_SKEW = 60  # seconds either way, as the platform's own verifier allows


class _Unknown(Exception):
    """Evidence that could not be had."""


class _Invalid(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


@dataclass
class Evidence:
    """Where keys and status lists come from."""

    key: Callable[[str], dict[str, Any]]
    status_list: Callable[[str], str]


def online_evidence(fetch: Fetch) -> Evidence:
    def key(kid: str) -> dict[str, Any]:
        if not kid.startswith(("https://", "http://")):
            raise _Unknown(f"the kid {kid!r} is not a key URL this verifier can fetch")
        try:
            jwk = json.loads(fetch(kid))
        except NotFound as exc:
            raise _Invalid(
                BAD_SIGNATURE, f"the key {kid} is not published (unknown or revoked)"
            ) from exc
        except Unreachable as exc:
            raise _Unknown(f"the issuer's key could not be fetched: {exc}") from exc
        except ValueError as exc:
            raise _Unknown(f"the key at {kid} is not JSON") from exc
        if not isinstance(jwk, dict):
            raise _Unknown(f"the key at {kid} is not a JWK")
        return jwk

    def status_list(url: str) -> str:
        try:
            return fetch(url).decode()
        except NotFound as exc:
            raise _Unknown(f"the status list {url} is not published") from exc
        except Unreachable as exc:
            raise _Unknown(f"the status list could not be fetched: {exc}") from exc

    return Evidence(key, status_list)


def bundle_evidence(bundle: dict[str, Any], *, jwks: dict[str, Any] | None = None) -> Evidence:
    """Keys and lists from the bundle alone. ``jwks``: the issuer's key set obtained out of band
    (pinned); without it the keys are the bundle's own copy, which a forged bundle would also
    carry, so the report says so."""
    key_set = jwks if jwks is not None else (bundle.get("issuer") or {}).get("jwks", {})
    keys = {k.get("kid"): k for k in key_set.get("keys", [])}
    lists = {s.get("url"): s.get("credential") for s in bundle.get("status_lists") or []}

    def key(kid: str) -> dict[str, Any]:
        if kid not in keys:
            where = "the pinned JWKS" if jwks is not None else "the bundle's JWKS"
            raise _Invalid(BAD_SIGNATURE, f"the key {kid} is not in {where}")
        return keys[kid]

    def status_list(url: str) -> str:
        if not isinstance(lists.get(url), str):
            raise _Unknown(f"the bundle holds no status list {url}")
        return lists[url]

    return Evidence(key, status_list)


def _epoch(value: Any) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if isinstance(value, int | float) else None


def _signed_by_issuer(raw: str, evidence: Evidence, issuer: str, what: str) -> jose.Token:
    """A token of the same issuer (status list, status token, statement), verified."""
    try:
        token = jose.read(raw)
    except jose.TokenError as exc:
        raise _Invalid(BAD_SIGNATURE, f"the {what} is unreadable: {exc}") from exc
    if not token.kid.startswith(f"{issuer}/keys/"):
        raise _Invalid(WRONG_ISSUER, f"the {what} is signed by a key of another issuer")
    try:
        jose.verify_signature(token, evidence.key(token.kid))
    except jose.TokenError as exc:
        raise _Invalid(BAD_SIGNATURE, f"the {what}: {exc}") from exc
    if token.payload.get("iss") != issuer:
        raise _Invalid(WRONG_ISSUER, f"the {what} does not name the credential's issuer")
    return token


@dataclass
class LogInput:
    """The seal's log evidence: the log's verifier key (pinned, or as published), a signed
    checkpoint, the seal's leaves with inclusion proofs against it, and how many of its events
    are newer than that checkpoint."""

    verifier_key: str
    checkpoint: str
    leaves: list[dict[str, Any]]
    pending: int = 0
    published_key: str | None = None  # what the server publishes, compared with a pinned key
    # Online: the log's URL prefix, to check that the current checkpoint extends this one.
    log_url: str | None = None
    fetch: Fetch | None = None


@dataclass
class SealInput:
    credential: str
    evidence: Evidence
    seal_id: str = ""
    expected_issuer_prefix: str = ""  # e.g. "https://seals.example/issuers/"
    status_token: str | None = None
    log: LogInput | None = None
    log_expected: bool = False
    offline: bool = False
    max_age: float | None = None  # seconds: older status evidence is "unknown"
    key_note: str = ""  # said on the key line: where the key came from, if not its URL
    facts: dict[str, Any] = field(default_factory=dict)


def verify_seal(subject: str, given: SealInput, *, now: datetime) -> Report:
    report = Report(subject, now, facts=dict(given.facts))
    token = _check_credential(report, given, now)
    if token is None:
        return report
    issuer = token.payload["iss"]
    lists_clear = _check_status_lists(report, given, token, issuer, now)
    _check_status_token(report, given, issuer, now)
    _check_log(report, given, lists_clear)
    return report


def _check_credential(report: Report, given: SealInput, now: datetime) -> jose.Token | None:
    try:
        token = jose.read(given.credential)
    except jose.TokenError as exc:
        report.add("format", FAIL, str(exc), reason=BAD_SIGNATURE)
        return None
    alg = token.header.get("alg")
    if alg not in jose.ALGORITHMS:
        report.add("format", FAIL, f"algorithm {alg!r} is not accepted", reason=BAD_SIGNATURE)
        return None
    name = token.payload.get("name")
    report.add("format", PASS, f"compact JWS, {alg}" + (f": {name}" if name else ""))
    report.facts["credential_id"] = token.payload.get("jti")
    try:
        jwk = given.evidence.key(token.kid)
    except _Invalid as exc:
        report.add("key", FAIL, str(exc), reason=exc.reason)
        return None
    except _Unknown as exc:
        report.add("key", UNKNOWN, str(exc))
        return None
    report.add("key", PASS, token.kid + given.key_note)
    try:
        jose.verify_signature(token, jwk)
    except jose.TokenError as exc:
        report.add("signature", FAIL, str(exc), reason=BAD_SIGNATURE)
        return None
    report.add("signature", PASS, "signed by that key")

    iss = token.payload.get("iss")
    body = token.payload.get("issuer")
    body_id = body.get("id") if isinstance(body, dict) else body
    report.facts["issuer"] = iss
    if not isinstance(iss, str) or not token.kid.startswith(f"{iss}/keys/"):
        report.add(
            "issuer", FAIL, f"iss {iss!r} is not the issuer that owns the key", reason=WRONG_ISSUER
        )
        return None
    if body_id != iss:
        report.add("issuer", FAIL, "issuer.id and iss differ", reason=WRONG_ISSUER)
        return None
    if given.expected_issuer_prefix and not iss.startswith(given.expected_issuer_prefix):
        report.add(
            "issuer",
            FAIL,
            f"{iss} is not an issuer of {given.expected_issuer_prefix}",
            reason=WRONG_ISSUER,
        )
        return None
    name = body.get("name") if isinstance(body, dict) else None
    report.add("issuer", PASS, f"{iss}" + (f" ({name})" if name else ""))

    nbf, exp = _epoch(token.payload.get("nbf")), _epoch(token.payload.get("exp"))
    now_s = now.timestamp()
    if nbf is not None and nbf.timestamp() > now_s + CLOCK_SKEW:
        report.add("time", FAIL, f"not valid before {iso(nbf)}", reason=NOT_YET_VALID)
    elif exp is not None and exp.timestamp() <= now_s - CLOCK_SKEW:
        report.add("time", FAIL, f"expired at {iso(exp)}", reason=EXPIRED)
    else:
        until = f"until {iso(exp)}" if exp else "with no expiry"
        report.add("time", PASS, f"valid from {iso(nbf)} {until}")
    return token


def _read_list(
    given: SealInput, url: str, issuer: str, purpose: str, index: int
) -> tuple[bool, datetime | None]:
    token = _signed_by_issuer(given.evidence.status_list(url), given.evidence, issuer, purpose)
    payload = token.payload
    subject = payload.get("credentialSubject") or {}
    if payload.get("id") != url or subject.get("statusPurpose") != purpose:
        raise _Invalid(BAD_SIGNATURE, f"the {purpose} list is not the one at {url}")
    try:
        bits = statuslist.decode(str(subject.get("encodedList", "")))
        return statuslist.bit(bits, index), _epoch(payload.get("iat"))
    except statuslist.StatusListError as exc:
        raise _Invalid(BAD_SIGNATURE, f"the {purpose} list: {exc}") from exc


def _check_status_lists(
    report: Report, given: SealInput, token: jose.Token, issuer: str, now: datetime
) -> bool:
    """Revocation and suspension bits; True when both are clear."""
    entry = token.payload.get("credentialStatus")
    if not isinstance(entry, dict) or entry.get("statusPurpose") != "revocation":
        report.add("status", FAIL, "no revocation entry in credentialStatus", reason=BAD_SIGNATURE)
        return False
    url = str(entry.get("statusListCredential", ""))
    index_text = entry.get("statusListIndex")
    if not url.startswith(f"{issuer}/status/revocation") or not str(index_text).isdigit():
        report.add("status", FAIL, "the status entry is not the issuer's", reason=WRONG_ISSUER)
        return False
    index = int(str(index_text))
    # The suspension list sits at the same number and index (docs/verification.md).
    urls = {
        "revocation": url,
        "suspension": url.replace("/status/revocation", "/status/suspension", 1),
    }
    bits: dict[str, bool] = {}
    signed: list[datetime] = []
    for purpose, list_url in urls.items():
        try:
            bits[purpose], iat = _read_list(given, list_url, issuer, purpose, index)
        except _Invalid as exc:
            report.add(purpose, FAIL, str(exc), reason=exc.reason)
            return False
        except _Unknown as exc:
            report.add(purpose, UNKNOWN, str(exc))
            continue
        if iat is not None:
            signed.append(iat)
    oldest = min(signed) if signed else None
    if given.offline and oldest is not None:
        report.evidence_at = oldest
    stale = (
        given.max_age is not None
        and oldest is not None
        and (now - oldest).total_seconds() > given.max_age
    )
    when = f"signed {iso(oldest)}" if oldest else ""
    if bits.get("suspension"):
        report.add("suspension", FAIL, f"bit {index} set: suspended ({when})", reason=SUSPENDED)
        report.add("revocation", PASS, f"bit {index} set too (a suspension sets both)")
        return False
    if bits.get("revocation"):
        report.add("revocation", FAIL, f"bit {index} set: revoked ({when})", reason=REVOKED)
        return False
    for purpose in urls:
        if purpose not in bits:
            continue
        if stale and oldest is not None:
            age = age_words((now - oldest).total_seconds())
            report.add(purpose, UNKNOWN, f"bit {index} clear, but the list is {age} old")
            report.last_confirmed_valid_at = oldest
        else:
            report.add(purpose, PASS, f"bit {index} clear ({when})")
    return len(bits) == 2


def _check_status_token(report: Report, given: SealInput, issuer: str, now: datetime) -> None:
    if not given.status_token:
        report.add("status token", SKIP, "none given", required=False)
        return
    try:
        token = _signed_by_issuer(given.status_token, given.evidence, issuer, "status token")
    except _Invalid as exc:
        report.add("status token", FAIL, str(exc), reason=exc.reason)
        return
    except _Unknown as exc:
        report.add("status token", UNKNOWN, str(exc), required=False)
        return
    claims = token.payload
    if given.seal_id and claims.get("sub") != given.seal_id:
        report.add("status token", FAIL, "it speaks of another seal", reason=WRONG_ISSUER)
        return
    status, iat, exp = claims.get("status"), _epoch(claims.get("iat")), _epoch(claims.get("exp"))
    if exp is None or exp.timestamp() <= now.timestamp() - CLOCK_SKEW:
        # Genuine but spent: it says what was so at iat, not now; the lists decide.
        report.add(
            "status token",
            UNKNOWN,
            f"said {status!r} at {iso(iat)}, expired at {iso(exp)}",
            required=False,
        )
        if status == "active" and iat is not None and report.last_confirmed_valid_at is None:
            report.last_confirmed_valid_at = iat
        return
    if status != "active":
        reason = STATUS_REASONS.get(str(status), BAD_SIGNATURE)
        report.add("status token", FAIL, f"says {status!r} (signed {iso(iat)})", reason=reason)
        return
    report.add("status token", PASS, f"active, signed {iso(iat)}, until {iso(exp)}")


def _b64(value: Any) -> bytes:
    try:
        return base64.b64decode(str(value), validate=True)
    except binascii.Error as exc:
        raise _Invalid(LOG_MISMATCH, "a log hash is not base64") from exc


def _check_log(report: Report, given: SealInput, lists_clear: bool) -> None:
    log = given.log
    if log is None:
        if given.log_expected:
            report.add("log", UNKNOWN, "no transparency-log evidence (no checkpoint yet?)")
        else:
            report.add(
                "log",
                SKIP,
                "a credential alone does not name its seal: check its verification URL or "
                "bundle for log evidence",
                required=False,
            )
        return
    try:
        detail, latest = _log_leaves(given, log)
    except _Invalid as exc:
        report.add("log", FAIL, str(exc), reason=exc.reason)
        return
    except _Unknown as exc:
        report.add("log", UNKNOWN, str(exc))
        return
    if latest is None:
        report.add("log", UNKNOWN, "none of the seal's events is in a signed checkpoint yet")
        return
    status = latest.get("status")
    if lists_clear and status in ("revoked", "suspended"):
        report.add(
            "log",
            FAIL,
            f"the log records the seal as {status} (leaf {latest.get('seq', 0) - 1}), "
            "the status lists do not",
            reason=STATUS_REASONS[status],
        )
        return
    report.add("log", PASS, detail)


def _log_leaves(given: SealInput, log: LogInput) -> tuple[str, dict[str, Any] | None]:
    try:
        key = note.parse_verifier_key(log.verifier_key)
    except note.NoteError as exc:
        raise _Invalid(LOG_MISMATCH, f"log key: {exc}") from exc
    if log.published_key is not None and log.published_key.strip() != key.text:
        raise _Invalid(LOG_MISMATCH, "the log key published now is not the pinned one")
    try:
        checkpoint = note.open_checkpoint(log.checkpoint, key)
    except note.NoteError as exc:
        raise _Invalid(LOG_MISMATCH, f"checkpoint: {exc}") from exc
    latest: dict[str, Any] | None = None
    for item in log.leaves:
        index = int(item.get("leaf_index", -1))
        data = _b64(item.get("leaf"))
        proof = [_b64(p) for p in item.get("inclusion_proof") or []]
        if not merkle.verify_inclusion(
            index, checkpoint.size, merkle.leaf_hash(data), proof, checkpoint.root
        ):
            raise _Invalid(
                LOG_MISMATCH, f"leaf {index} is not included in checkpoint {checkpoint.size}"
            )
        try:
            leaf = json.loads(data)
        except ValueError as exc:
            raise _Invalid(LOG_MISMATCH, f"leaf {index} is not JSON") from exc
        if leaf.get("seal") != given.seal_id or leaf.get("seq") != index + 1:
            raise _Invalid(LOG_MISMATCH, f"leaf {index} is not an event of this seal")
        if latest is None or leaf["seq"] > latest["seq"]:
            latest = leaf
    extended = _extended(log, key, checkpoint)
    count = len(log.leaves)
    detail = (
        f"{count} leaf{'s' if count != 1 else ''} of this seal in checkpoint {checkpoint.size} "
        f"signed by {key.name}"
    )
    if latest is not None:
        detail += f"; latest: {latest.get('kind')} → {latest.get('status')}"
    if log.pending:
        detail += f"; {log.pending} newer event(s) not in a checkpoint yet"
    return detail + extended, latest


def _extended(log: LogInput, key: note.VerifierKey, old: note.Checkpoint) -> str:
    """Online: the log's current checkpoint must extend the one the proofs are against."""
    if log.log_url is None or log.fetch is None:
        return ""
    try:
        current = note.open_checkpoint(log.fetch(f"{log.log_url}/checkpoint").decode(), key)
    except note.NoteError as exc:
        raise _Invalid(LOG_MISMATCH, f"current checkpoint: {exc}") from exc
    except (Unreachable, NotFound) as exc:
        raise _Unknown(f"the current checkpoint could not be fetched: {exc}") from exc
    if current.size < old.size:
        raise _Invalid(LOG_MISMATCH, f"the log shrank from {old.size} to {current.size} leaves")
    if current.size == old.size:
        if current.root != old.root:
            raise _Invalid(LOG_MISMATCH, f"two different roots for size {old.size}")
        return ""
    url = f"{log.log_url}/proof/consistency?from={old.size}&to={current.size}"
    try:
        body = json.loads(log.fetch(url))
        proof = [_b64(p) for p in body["proof"]]
    except (Unreachable, NotFound, ValueError, KeyError, TypeError) as exc:
        raise _Unknown(f"no consistency proof to the current checkpoint: {exc}") from exc
    if not merkle.verify_consistency(old.size, current.size, old.root, current.root, proof):
        raise _Invalid(
            LOG_MISMATCH,
            f"checkpoint {current.size} does not extend checkpoint {old.size}: history rewritten",
        )
    return f"; the current checkpoint ({current.size}) extends it"


# --- inputs ----------------------------------------------------------------------------------
def log_input(bundle: dict[str, Any], *, pinned_key: str | None) -> LogInput | None:
    part = bundle.get("log")
    if not isinstance(part, dict):
        return None
    published = str(part.get("verifier_key", ""))
    return LogInput(
        verifier_key=pinned_key or published,
        published_key=published if pinned_key else None,
        checkpoint=str(part.get("checkpoint", "")),
        leaves=list(part.get("leaves") or []),
        pending=int(part.get("pending") or 0),
    )


def unknown_seal(subject: str, now: datetime, detail: str, *, gone: bool = False) -> Report:
    """No such seal; ``gone``: the server answered 410, a seal whose holder's data was erased,
    which the platform answers as no longer valid (revoked)."""
    report = Report(subject, now)
    if gone:
        report.add("seal", FAIL, "the seal is no longer valid (410 Gone)", reason=REVOKED)
    else:
        report.add("seal", FAIL, detail, reason=UNKNOWN_SEAL)
    return report


def unreachable(subject: str, now: datetime, detail: str) -> Report:
    report = Report(subject, now)
    report.add("fetch", UNKNOWN, detail)
    return report
