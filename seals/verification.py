"""The verifier: checks a credential, status list or status token JWT as a third party would.

Checks run in order and stop at the first failure, which the answer names:
``format`` → ``algorithm`` → ``kid`` → ``signature`` → ``issuer`` → ``time`` → ``schema`` →
``status``. Keys come only from our own published keys, found by the ``kid`` URL: the ``jku``,
``x5u`` and ``jwk`` headers are ignored, since trusting a key the token brings itself proves
nothing. Only the algorithms we issue are accepted (never ``none``, never HMAC, whose "secret"
an attacker would take from our public key).
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import cache as memoize
from pathlib import Path
from typing import Any

import jwt
from django.conf import settings
from django.utils import timezone
from jsonschema import Draft201909Validator, FormatChecker

from issuers.models import Issuer
from seals import data_integrity
from seals.credentials import JWT_CLAIMS
from seals.data_integrity import (  # noqa: F401  (re-exported: the suite's JSON-LD checks)
    jsonld_undefined_terms,
    local_document_loader,
)
from seals.keys import DATA_INTEGRITY_ALGORITHM, issuer_did, issuer_jwks, issuer_url
from seals.models import SealStatus, StatusList
from seals.status_lists import StatusListError, status_list_bit_published
from seals.verdict import (
    BAD_SIGNATURE,
    EXPIRED,
    NOT_YET_VALID,
    REVOKED,
    SUSPENDED,
    VALID,
    WRONG_ISSUER,
    Verdict,
    verdict_invalid,
    verdict_of_status,
    verdict_unknown,
)

ALLOWED_ALGORITHMS = ("ES256", "RS256")
CLOCK_SKEW_SECONDS = 60
CONFORMANCE_DIR = Path(__file__).resolve().parent / "conformance"
CHECKS = ("format", "algorithm", "kid", "signature", "issuer", "time", "schema", "status")


@dataclass
class Check:
    name: str
    ok: bool
    detail: str = ""


@dataclass
class VerificationResult:
    valid: bool
    kind: str = ""
    failed: str | None = None
    reason: str = ""
    checks: list[Check] = field(default_factory=list)
    header: dict[str, Any] = field(default_factory=dict)
    payload: dict[str, Any] = field(default_factory=dict)
    status: dict[str, Any] = field(default_factory=dict)
    # The three-way answer (seals.verdict): what a relying party should conclude.
    verdict: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class _Failed(Exception):
    def __init__(self, check: str, reason: str, verdict: Verdict | None = None) -> None:
        super().__init__(reason)
        self.check, self.reason, self.verdict = check, reason, verdict


# A failed check of the token itself means it cannot be trusted at all; a status that could
# not be read (a list unpublished, an entry unreadable) leaves the answer unknown instead.
_CHECK_REASONS = {
    "format": BAD_SIGNATURE,
    "algorithm": BAD_SIGNATURE,
    "kid": BAD_SIGNATURE,
    "signature": BAD_SIGNATURE,
    "schema": BAD_SIGNATURE,
    "time": BAD_SIGNATURE,  # an unreadable time claim; the time itself is judged apart
    "issuer": WRONG_ISSUER,
}


def _failed_verdict(failure: _Failed) -> Verdict:
    if failure.verdict is not None:
        return failure.verdict
    if failure.check in _CHECK_REASONS:
        return verdict_invalid(_CHECK_REASONS[failure.check], failure.reason)
    return verdict_unknown(failure.reason)


def _fail(result: VerificationResult, failure: _Failed) -> VerificationResult:
    result.failed, result.reason = failure.check, failure.reason
    result.checks.append(Check(failure.check, False, failure.reason))
    result.verdict = _failed_verdict(failure).as_dict()
    return result


# --- conformance data (vendored, offline) ---


@memoize
def ob3_schema_validator() -> Draft201909Validator:
    path = CONFORMANCE_DIR / "schemas" / "ob_v3p0_achievementcredential_schema.json"
    return Draft201909Validator(json.loads(path.read_text()), format_checker=FormatChecker())


def credential_without_jwt_claims(payload: dict[str, Any]) -> dict[str, Any]:
    """The credential a VC-JWT carries: the payload minus the JOSE-layer claims."""
    return {k: v for k, v in payload.items() if k not in JWT_CLAIMS}


# --- the checks ---


def _kind(payload: dict[str, Any]) -> str:
    types = payload.get("type") or []
    types = types if isinstance(types, list) else [types]
    if "BitstringStatusListCredential" in types:
        return "status_list"
    if "OpenBadgeCredential" in types or "AchievementCredential" in types:
        return "credential"
    if "status_then" in payload and "at" in payload and "@context" not in payload:
        return "historical_statement"
    if "status" in payload and "sub" in payload and "@context" not in payload:
        return "status_token"
    return "unknown"


_KID = re.compile(r"/issuers/(?P<slug>[a-z0-9-]+)/keys/(?P<key_id>[A-Za-z0-9_-]+)")


@dataclass(frozen=True)
class _Key:
    issuer: Issuer
    jwk: dict[str, Any]
    # The id the key's signatures must name as their issuer: the DID for a DID URL, else the
    # profile URL.
    issuer_id: str


def _find_key(kid: Any) -> _Key:
    """One of our published keys, by its ``kid`` URL or its DID URL (``did:web:…#<key>``)."""
    if not isinstance(kid, str) or not kid:
        raise _Failed("kid", "The header has no kid.")
    did_form = kid.startswith("did:")
    if did_form:
        did, _, key_id = kid.partition("#")
        slug = did.rsplit(":", 1)[-1]
        issuer = Issuer.objects.filter(slug=slug).first()
        if issuer is None or issuer_did(issuer) != did or not key_id:
            raise _Failed("kid", f"The kid {kid!r} is not one of our issuers' DID URLs.")
        url = f"{issuer_url(issuer)}/keys/{key_id}"
    else:
        prefix = f"{settings.PUBLIC_BASE_URL}/"
        match = _KID.fullmatch(kid[len(prefix) - 1 :]) if kid.startswith(prefix) else None
        if match is None:
            raise _Failed("kid", f"The kid {kid!r} is not one of our issuers' key URLs.")
        issuer = Issuer.objects.filter(slug=match["slug"]).first()
        if issuer is None:
            raise _Failed("kid", "The kid names an unknown issuer.")
        url = kid
    for jwk in issuer_jwks(issuer)["keys"]:
        if jwk["kid"] == url:
            expected = issuer_did(issuer) if did_form else issuer_url(issuer)
            return _Key(issuer, jwk, expected)
    raise _Failed("kid", "The kid is not a published key of its issuer (unknown or revoked).")


def _check_time(payload: dict[str, Any], now: int) -> str:
    for claim in ("nbf", "iat", "exp"):
        if claim in payload and not isinstance(payload[claim], int | float):
            raise _Failed("time", f"The {claim} claim is not a number.")
    if "nbf" in payload and payload["nbf"] > now + CLOCK_SKEW_SECONDS:
        raise _Failed("time", "Not yet valid (nbf is in the future).")
    if "iat" in payload and payload["iat"] > now + CLOCK_SKEW_SECONDS:
        raise _Failed("time", "Issued in the future (iat).")
    if "exp" in payload and payload["exp"] <= now - CLOCK_SKEW_SECONDS:
        raise _Failed("time", "Expired (exp is in the past).")
    return f"within ±{CLOCK_SKEW_SECONDS} s"


def _check_schema(kind: str, payload: dict[str, Any]) -> str:
    if kind == "credential":
        errors = sorted(
            ob3_schema_validator().iter_errors(credential_without_jwt_claims(payload)),
            key=lambda e: list(e.absolute_path),
        )
        if errors:
            where = "/".join(str(p) for p in errors[0].absolute_path) or "(root)"
            raise _Failed("schema", f"OB 3.0 schema: {where}: {errors[0].message}")
        return "OB 3.0 AchievementCredential schema"
    if kind == "status_list":
        subject = payload.get("credentialSubject") or {}
        if subject.get("type") != "BitstringStatusList" or not str(
            subject.get("encodedList", "")
        ).startswith("u"):
            raise _Failed("schema", "Not a BitstringStatusList credential subject.")
        return "BitstringStatusListCredential"
    if kind == "historical_statement":
        if not all(isinstance(payload.get(c), str) for c in ("sub", "at", "verdict")):
            raise _Failed("schema", "Not a historical statement (sub, at and a verdict).")
        return "historical statement (seals.history)"
    if kind == "status_token":
        if payload.get("status") not in SealStatus.values or not isinstance(payload["sub"], str):
            raise _Failed("schema", "Not a status token (sub and a known status).")
        if "exp" not in payload:
            raise _Failed("schema", "A status token must expire (exp).")
        return "status token"
    raise _Failed("schema", "Neither an OpenBadgeCredential, a status list nor a status token.")


_LIST_URL = re.compile(
    r"/issuers/(?P<slug>[a-z0-9-]+)/status/revocation(?:/(?P<number>\d+))?(?:\.json)?"
)


def _check_status(issuer: Issuer, payload: dict[str, Any]) -> dict[str, Any]:
    entry = payload.get("credentialStatus")
    if not isinstance(entry, dict) or entry.get("type") != "BitstringStatusListEntry":
        raise _Failed("status", "No BitstringStatusListEntry in credentialStatus.")
    url = str(entry.get("statusListCredential", ""))
    prefix = f"{settings.PUBLIC_BASE_URL}/"
    match = _LIST_URL.fullmatch(url[len(prefix) - 1 :]) if url.startswith(prefix) else None
    if match is None or match["slug"] != issuer.slug:
        raise _Failed("status", "The status list is not one of the issuer's lists.")
    index_text = entry.get("statusListIndex")
    if not isinstance(index_text, str) or not index_text.isdigit():
        raise _Failed("status", "statusListIndex must be a decimal string.")
    number, index = int(match["number"] or 0), int(index_text)
    result: dict[str, Any] = {}
    for purpose in (StatusList.Purpose.REVOCATION, StatusList.Purpose.SUSPENSION):
        try:
            bit = status_list_bit_published(issuer, purpose, number, index)
        except StatusListError as exc:
            raise _Failed("status", str(exc)) from exc
        if bit is None:
            raise _Failed("status", f"The {purpose} list is not published.")
        result[purpose] = bit
    # A suspension sets both bits (seals.status_lists.status_list_cancel): the suspension bit
    # says which of the two it is.
    if result[StatusList.Purpose.SUSPENSION]:
        detail = "Suspended (its bit is set in the suspension list)."
        raise _Failed("status", detail, verdict_invalid(SUSPENDED, detail))
    if result[StatusList.Purpose.REVOCATION]:
        detail = (
            "Revoked (its bit is set in the revocation list): a revoked seal, or a copy issued "
            "before a suspension, which cancels it for good."
        )
        raise _Failed("status", detail, verdict_invalid(REVOKED, detail))
    return result


def verify_jwt(token: str, *, now: datetime | None = None) -> VerificationResult:
    """Verify ``token``; the result lists each check and names the first that failed."""
    now_s = int((now or timezone.now()).timestamp())
    result = VerificationResult(valid=False)

    def passed(name: str, detail: str = "") -> None:
        result.checks.append(Check(name, True, detail))

    try:
        token = token.strip()
        if token.count(".") != 2:
            raise _Failed("format", "Not a compact JWS (three dot-separated parts).")
        try:
            header = jwt.get_unverified_header(token)
            payload = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError as exc:
            raise _Failed("format", f"Unreadable JWT: {exc}") from exc
        result.header, result.payload = header, payload
        result.kind = _kind(payload)
        passed("format")

        alg = header.get("alg")
        if alg not in ALLOWED_ALGORITHMS:
            raise _Failed("algorithm", f"Algorithm {alg!r} is not accepted; only ES256, RS256.")
        passed("algorithm", alg)

        key = _find_key(header.get("kid"))
        issuer, jwk = key.issuer, key.jwk
        if jwk["alg"] != alg:
            raise _Failed("algorithm", f"The key is for {jwk['alg']}, the token says {alg}.")
        passed("kid", jwk["kid"])

        try:
            public_key = jwt.PyJWK(jwk, algorithm=jwk["alg"]).key
            jwt.api_jws.PyJWS().decode_complete(token, key=public_key, algorithms=[jwk["alg"]])
        except jwt.PyJWTError as exc:
            raise _Failed("signature", f"Invalid signature: {exc}") from exc
        passed("signature")

        expected_iss = key.issuer_id
        claimed = payload.get("iss")
        body_issuer = payload.get("issuer")
        body_issuer_id = body_issuer.get("id") if isinstance(body_issuer, dict) else body_issuer
        if claimed != expected_iss or (body_issuer is not None and body_issuer_id != claimed):
            raise _Failed("issuer", "iss/issuer do not name the issuer that owns the key.")
        passed("issuer", expected_iss)

        try:
            passed("time", _check_time(payload, now_s))
        except _Failed as failure:
            raise _Failed(
                "time", failure.reason, _time_verdict(result.kind, payload, now_s)
            ) from None
        passed("schema", _check_schema(result.kind, payload))

        if result.kind == "credential":
            result.status = _check_status(issuer, payload)
            passed("status", "neither revoked nor suspended")
        elif result.kind == "status_token":
            result.status = {"status": payload["status"]}
            if payload["status"] != SealStatus.ACTIVE:
                # Signed and current, and what it says is that the seal is not valid: the
                # answer is "invalid", never a bare valid: true a reader could take for the seal.
                detail = f"The status token says {payload['status']}."
                raise _Failed("status", detail, verdict_of_status(payload["status"]))
            passed("status", "active")
    except _Failed as failure:
        return _fail(result, failure)
    result.valid = True
    result.reason = "All checks passed."
    result.verdict = _passed_verdict(result.kind, payload).as_dict()
    return result


def _time_verdict(kind: str, payload: dict[str, Any], now_s: int) -> Verdict:
    """A credential past its ``exp`` is an expired membership; a status token past its ``exp``
    is only stale news (unknown), last confirmed valid when it was issued if it said active."""
    exp = payload.get("exp")
    if not isinstance(exp, int | float) or exp > now_s - CLOCK_SKEW_SECONDS:
        nbf = payload.get("nbf", payload.get("iat"))
        if isinstance(nbf, int | float) and nbf > now_s + CLOCK_SKEW_SECONDS:
            return verdict_invalid(NOT_YET_VALID, "Not yet valid (nbf or iat in the future).")
        return verdict_invalid(BAD_SIGNATURE, "A time claim is not a number.")
    if kind == "status_token":
        iat = payload.get("iat")
        confirmed = (
            datetime.fromtimestamp(iat, tz=UTC)
            if payload.get("status") == SealStatus.ACTIVE and isinstance(iat, int | float)
            else None
        )
        return verdict_unknown(
            "The status token has expired: fetch a fresh one for the current status.",
            last_confirmed_valid_at=confirmed,
        )
    return verdict_invalid(EXPIRED, "Expired (exp is in the past).")


def _passed_verdict(kind: str, payload: dict[str, Any]) -> Verdict:
    if kind == "historical_statement":
        # The verdict it signs is about its ``at``, not about now: say so.
        return Verdict(
            payload["verdict"],
            payload.get("reason"),
            f"At {payload['at']}, as the issuer signed it (not a statement about now).",
        )
    return Verdict(VALID, detail="All checks passed.")


def _epoch_of(value: Any, name: str) -> int:
    try:
        return int(datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp())
    except ValueError as exc:
        raise _Failed("time", f"{name} is not an XML Schema dateTime.") from exc


def verify_document(document: Any, *, now: datetime | None = None) -> VerificationResult:
    """Verify a credential or status list secured by an ``eddsa-rdfc-2022`` Data Integrity
    proof; the same checks, in the same order and with the same names, as ``verify_jwt``."""
    now_s = int((now or timezone.now()).timestamp())
    result = VerificationResult(valid=False)

    def passed(name: str, detail: str = "") -> None:
        result.checks.append(Check(name, True, detail))

    try:
        if not isinstance(document, dict) or "proof" not in document:
            raise _Failed("format", "Not a JSON-LD document with a proof.")
        result.payload, result.kind = document, _kind(document)
        passed("format")

        try:
            proof = data_integrity.proof_of(document)
        except data_integrity.DataIntegrityError as exc:
            raise _Failed("algorithm", str(exc)) from exc
        result.header = {k: v for k, v in proof.items() if k != "proofValue"}
        passed("algorithm", data_integrity.CRYPTOSUITE)

        key = _find_key(proof["verificationMethod"])
        if key.jwk["alg"] != DATA_INTEGRITY_ALGORITHM:
            raise _Failed("algorithm", "eddsa-rdfc-2022 needs an Ed25519 key.")
        passed("kid", proof["verificationMethod"])

        x = key.jwk["x"]
        raw = base64.urlsafe_b64decode(x + "=" * (-len(x) % 4))
        try:
            data_integrity.verify(document, public_key=raw)
        except data_integrity.DataIntegrityError as exc:
            raise _Failed("signature", str(exc)) from exc
        passed("signature")

        body_issuer = document.get("issuer")
        body_issuer_id = body_issuer.get("id") if isinstance(body_issuer, dict) else body_issuer
        # The proof's verification method is controlled by the DID: the issuer must be it.
        if body_issuer_id != key.issuer_id:
            raise _Failed("issuer", "issuer is not the controller of the proof's key.")
        passed("issuer", key.issuer_id)

        times: dict[str, int] = {}
        if "validFrom" in document:
            times["nbf"] = _epoch_of(document["validFrom"], "validFrom")
        if "validUntil" in document:
            times["exp"] = _epoch_of(document["validUntil"], "validUntil")
        try:
            passed("time", _check_time(times, now_s))
        except _Failed as failure:
            raise _Failed(
                "time", failure.reason, _time_verdict(result.kind, times, now_s)
            ) from None
        passed("schema", _check_schema(result.kind, document))

        if result.kind == "credential":
            result.status = _check_status(key.issuer, document)
            passed("status", "neither revoked nor suspended")
    except _Failed as failure:
        return _fail(result, failure)
    result.valid = True
    result.reason = "All checks passed."
    result.verdict = _passed_verdict(result.kind, document).as_dict()
    return result
