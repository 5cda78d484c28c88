"""``--at``: the server's historical answer (``/verify/<id>.json?at=``), checked.

The answer's signed statement must be the issuer's and say what the answer says; each event it
rests on must be a leaf of the issuer's log (its bytes fetched from the log, its inclusion
proof the answer's own) under the checkpoint the statement names, and that checkpoint must be
the signed one or one the signed one extends.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any
from urllib.parse import quote

from trustseal_verify import merkle, note
from trustseal_verify.checks import (
    FAIL,
    LOG_MISMATCH,
    PASS,
    UNKNOWN,
    UNKNOWN_SEAL,
    WRONG_ISSUER,
    Report,
)
from trustseal_verify.fetch import Fetch, NotFound, Unreachable
from trustseal_verify.verify import _Invalid, _signed_by_issuer, _Unknown, online_evidence


def _json(fetch: Fetch, url: str) -> Any:
    try:
        return json.loads(fetch(url))
    except ValueError as exc:
        raise _Unknown(f"{url} did not answer JSON") from exc


def verify_at(
    base: str, seal_id: str, at: str, *, fetch: Fetch, now: datetime, pinned_key: str | None
) -> Report:
    subject = f"{base}/verify/{seal_id} at {at}"
    report = Report(subject, now)
    try:
        document = _json(fetch, f"{base}/verify/{seal_id}.json?at={quote(at, safe='')}")
    except NotFound:
        report.add("seal", FAIL, "the server knows no such seal", reason=UNKNOWN_SEAL)
        return report
    except (Unreachable, _Unknown) as exc:
        report.add("fetch", UNKNOWN, str(exc))
        return report
    try:
        claims = _statement(report, document, base, seal_id, fetch)
        _events(report, document, claims, base, fetch, pinned_key)
    except _Invalid as exc:
        report.add("evidence", FAIL, str(exc), reason=exc.reason)
        return report
    except (_Unknown, Unreachable, NotFound) as exc:
        report.add("evidence", UNKNOWN, str(exc))
        return report
    verdict, reason = claims.get("verdict"), claims.get("reason")
    said = f"{claims.get('answer')}: status then {claims.get('status_then')!r}"
    if verdict == "valid":
        report.add("status then", PASS, said)
    elif verdict == "invalid":
        report.add("status then", FAIL, said, reason=str(reason))
    else:
        report.add("status then", UNKNOWN, said)
    report.facts["at"] = document.get("at")
    return report


def _statement(
    report: Report, document: dict[str, Any], base: str, seal_id: str, fetch: Fetch
) -> dict[str, Any]:
    statement = str(document.get("statement", ""))
    try:
        iss = json.loads(base64.urlsafe_b64decode(statement.split(".")[1] + "==").decode()).get(
            "iss"
        )
    except (ValueError, IndexError) as exc:
        raise _Invalid("bad_signature", "the statement is not a JWT") from exc
    if not isinstance(iss, str) or not iss.startswith(f"{base}/issuers/"):
        raise _Invalid(WRONG_ISSUER, f"the statement's issuer {iss!r} is not one of {base}")
    token = _signed_by_issuer(statement, online_evidence(fetch), iss, "statement")
    claims = token.payload
    expected = {
        "sub": seal_id,
        "at": document.get("at"),
        "answer": document.get("answer"),
        "status_then": document.get("status"),
        "verdict": (document.get("verdict") or {}).get("verdict"),
        "events": [e.get("seq") for e in document.get("events") or []],
    }
    for name, value in expected.items():
        if claims.get(name) != value:
            raise _Invalid("bad_signature", f"the signed statement's {name} is not the answer's")
    report.add("statement", PASS, f"signed by {token.kid}")
    return claims


def _events(
    report: Report,
    document: dict[str, Any],
    claims: dict[str, Any],
    base: str,
    fetch: Fetch,
    pinned_key: str | None,
) -> None:
    events = document.get("events") or []
    if not events:
        report.add("log", PASS, "no event to prove (the seal did not exist then)", required=False)
        return
    checkpoint_info = document.get("checkpoint") or {}
    url = str(checkpoint_info.get("url", ""))
    if not url.startswith(f"{base}/issuers/") or not url.endswith("/checkpoint"):
        raise _Unknown("the answer names no checkpoint of the issuer's log")
    log_url = url.removesuffix("/checkpoint")
    key = note.parse_verifier_key(pinned_key or fetch(f"{log_url}/key").decode())
    current = note.open_checkpoint(fetch(url).decode(), key)
    size = claims.get("checkpoint_size")
    root = base64.b64decode(str(claims.get("checkpoint_root")))
    if not isinstance(size, int) or size > current.size:
        raise _Invalid(LOG_MISMATCH, "the statement's checkpoint is not in the log")
    if size == current.size and root != current.root:
        raise _Invalid(LOG_MISMATCH, f"two different roots for size {size}")
    if size < current.size:
        body = _json(fetch, f"{log_url}/proof/consistency?from={size}&to={current.size}")
        proof = [base64.b64decode(p) for p in body["proof"]]
        if not merkle.verify_consistency(size, current.size, root, current.root, proof):
            raise _Invalid(LOG_MISMATCH, f"checkpoint {current.size} does not extend {size}")
    proven = 0
    for event in events:
        log = event.get("log")
        if log is None:
            report.add("log", UNKNOWN, f"event {event.get('seq')} is not in a checkpoint yet")
            continue
        index = int(log["leaf_index"])
        leaf = base64.b64decode(
            _json(fetch, f"{log_url}/proof/inclusion?leaf={index}&size={size}")["leaf"]
        )
        proof = [base64.b64decode(p) for p in log["inclusion_proof"]]
        if not merkle.verify_inclusion(index, size, merkle.leaf_hash(leaf), proof, root):
            raise _Invalid(LOG_MISMATCH, f"event {event.get('seq')} is not in the log")
        body = json.loads(leaf)
        said = {k: body.get(k) for k in ("seal", "seq", "kind", "status")}
        if (
            said
            != {k: event.get(k) for k in ("seq", "kind", "status")}
            | {"seal": document.get("seal_id")}
            or body.get("at", "")[:19] != str(event.get("at", ""))[:19]
        ):
            raise _Invalid(LOG_MISMATCH, f"the log's leaf {index} says otherwise than the answer")
        proven += 1
    report.add("log", PASS, f"{proven} event(s) proven in checkpoint {size} (signed {key.name})")
