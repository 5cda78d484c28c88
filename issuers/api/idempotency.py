"""``Idempotency-Key`` on POST: a retried request replays the first answer instead of acting twice.

The same key with the same request (method, path, body) replays the stored status, body and
headers with ``Idempotent-Replayed: true``; the same key with a different request is 422. Keys
are per API key and kept for IDEMPOTENCY_TTL; server errors (5xx) are not stored, so a retry after
one runs again.

A key is claimed before the request runs (a unique insert of an in-flight record), so two
concurrent requests with one key never both act (checking first let six parallel POSTs with
one key make four seals).
A repeat that arrives while the first still runs waits up to IN_FLIGHT_WAIT for its answer and
replays it; after that it gets 409 ``idempotency_in_progress`` with ``Retry-After``, as Stripe
answers.
"""

from __future__ import annotations

import hashlib
import io
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.request import Request

from config.problems import Conflict, Unprocessable
from issuers.models import ApiKey, IdempotencyRecord

HEADER = "Idempotency-Key"
IDEMPOTENCY_TTL = timedelta(hours=24)
_REPLAYED_HEADERS = ("Content-Type", "Location")
# response_status of a claimed record whose request has not answered yet (no HTTP status is 0).
IN_FLIGHT = 0
# How long a repeat waits for the first request's answer before it is told to retry: most
# writes answer well within it, so a client retrying on a timeout usually gets the replay.
IN_FLIGHT_WAIT = 3.0
IN_FLIGHT_POLL = 0.05
# A claim this old without an answer belongs to a process that died mid-request (a crash skips
# the release); a repeat may take it over. Longer than any request is allowed to run.
IN_FLIGHT_ABANDONED = timedelta(minutes=2)
RETRY_AFTER = 1
_CHUNK = 64 * 1024


class IdempotencyInProgress(Conflict):
    default_code = "idempotency_in_progress"
    retry_after = RETRY_AFTER


@dataclass(frozen=True)
class Claim:
    """This request holds the key: it runs, then stores its answer (or releases the claim)."""

    record_id: int
    claimed_at: datetime


def _body(request: Request) -> bytes:
    """The raw body, read in chunks from the stream and handed back to Django as its own
    ``request.body`` would be (the view's parser then reads the same bytes).

    ``request.body`` itself refuses anything over DATA_UPLOAD_MAX_MEMORY_SIZE (through it, an
    import over 5 MB with a key got 413 while without one it was accepted). The size is already
    bounded by the view's own limit (its Content-Length check), the same with and without a key.
    """
    django_request = request._request
    if hasattr(django_request, "_body"):
        return django_request._body
    chunks = []
    while chunk := django_request.read(_CHUNK):
        chunks.append(chunk)
    body = b"".join(chunks)
    django_request._body = body
    django_request._stream = io.BytesIO(body)
    return body


def request_fingerprint(request: Request) -> str:
    """SHA-256 over method, path and body; multipart bodies by their fields and files' digests
    (their boundary is random per request, so the raw bytes of two identical uploads differ)."""
    digest = hashlib.sha256()
    digest.update(f"{request.method} {request.get_full_path()}\n".encode())
    content_type = request.META.get("CONTENT_TYPE", "")
    if content_type.startswith("multipart/"):
        for name in sorted(request.POST):
            digest.update(f"{name}={request.POST.getlist(name)!r}\n".encode())
        for name in sorted(request.FILES):
            for upload in request.FILES.getlist(name):
                file_digest = hashlib.sha256()
                for chunk in upload.chunks():
                    file_digest.update(chunk)
                upload.seek(0)
                digest.update(f"{name}:{file_digest.hexdigest()}\n".encode())
    elif int(request.META.get("CONTENT_LENGTH") or 0) > 0:
        digest.update(_body(request))
    return digest.hexdigest()


def idempotency_key_of(request: Request) -> str | None:
    key = request.headers.get(HEADER)
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > 255:
        raise exceptions.ValidationError(
            {HEADER: ["Idempotency-Key must be 1 to 255 characters (a UUID is a good choice)."]}
        )
    return key


def _replay(record: IdempotencyRecord) -> HttpResponse:
    response = HttpResponse(bytes(record.response_body), status=record.response_status)
    for name, value in record.response_headers.items():
        response[name] = value
    response["Idempotent-Replayed"] = "true"
    return response


def idempotency_claim(*, api_key: ApiKey, key: str, fingerprint: str) -> Claim | HttpResponse:
    """Claim ``key`` for this request, or the stored answer to replay.

    Steps: (1) insert an in-flight record; the unique (api_key, key) constraint lets one
    request win. (2) Lost: read the record. Expired, or in flight past IN_FLIGHT_ABANDONED:
    take it over with a conditional UPDATE (one of several takers wins; the others loop).
    Another request's fingerprint: 422. Answered: replay. In flight: poll until IN_FLIGHT_WAIT,
    then 409 ``idempotency_in_progress``.
    """
    deadline = time.monotonic() + IN_FLIGHT_WAIT
    while True:
        now = timezone.now()
        try:
            # Committed at once (its own transaction), so concurrent repeats see the claim.
            with transaction.atomic():
                created = IdempotencyRecord.objects.create(
                    api_key=api_key,
                    key=key,
                    request_hash=fingerprint,
                    response_status=IN_FLIGHT,
                    response_body=b"",
                    response_headers={},
                    created_at=now,
                )
            return Claim(record_id=created.pk, claimed_at=now)
        except IntegrityError:
            pass
        record = (
            IdempotencyRecord.objects.filter(api_key=api_key, key=key)
            .only("created_at", "request_hash", "response_status")
            .first()
        )
        if record is None:  # released or deleted since the insert failed: claim again
            continue
        in_flight = record.response_status == IN_FLIGHT
        stale = record.created_at < now - (IN_FLIGHT_ABANDONED if in_flight else IDEMPOTENCY_TTL)
        if stale:
            taken = IdempotencyRecord.objects.filter(
                pk=record.pk,
                created_at=record.created_at,
                response_status=record.response_status,
            ).update(
                request_hash=fingerprint,
                response_status=IN_FLIGHT,
                response_body=b"",
                response_headers={},
                created_at=now,
            )
            if taken:
                return Claim(record_id=record.pk, claimed_at=now)
            continue
        if record.request_hash != fingerprint:
            raise Unprocessable(
                f"Idempotency-Key {key!r} was already used with a different request; use a "
                "new key for a new request.",
                code="idempotency_key_reused",
            )
        if not in_flight:
            return _replay(IdempotencyRecord.objects.get(pk=record.pk))
        if time.monotonic() >= deadline:
            raise IdempotencyInProgress(
                f"A request with Idempotency-Key {key!r} is still being processed; retry in "
                f"{RETRY_AFTER} s to get its answer."
            )
        time.sleep(IN_FLIGHT_POLL)


def _held(claim: Claim) -> QuerySet[IdempotencyRecord]:
    # Conditional on the claim's own moment: a claim taken over as abandoned belongs to its new
    # holder, whose answer must not be overwritten nor its claim released.
    return IdempotencyRecord.objects.filter(
        pk=claim.record_id, created_at=claim.claimed_at, response_status=IN_FLIGHT
    )


def idempotency_release(claim: Claim) -> None:
    """Give the key back (the request crashed or answered 5xx): a retry runs again."""
    _held(claim).delete()


def idempotency_store(*, claim: Claim, response: HttpResponse) -> None:
    if response.status_code >= 500:
        idempotency_release(claim)
        return
    headers = {h: response[h] for h in _REPLAYED_HEADERS if response.has_header(h)}
    _held(claim).update(
        response_status=response.status_code,
        response_body=response.content,
        response_headers=headers,
    )
