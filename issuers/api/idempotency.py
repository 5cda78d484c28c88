"""``Idempotency-Key`` on POST: a retried request replays the first answer instead of acting twice.

The same key with the same request (method, path, body) replays the stored status, body and
headers with ``Idempotent-Replayed: true``; the same key with a different request is 422. Keys
are per API key and kept for IDEMPOTENCY_TTL; server errors (5xx) are not stored, so a retry after
one runs again.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.request import Request

from issuers.api.problems import Unprocessable
from issuers.models import ApiKey, IdempotencyRecord

HEADER = "Idempotency-Key"
IDEMPOTENCY_TTL = timedelta(hours=24)
_REPLAYED_HEADERS = ("Content-Type", "Location")


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
    else:
        digest.update(request.body)
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


def idempotency_lookup(*, api_key: ApiKey, key: str, fingerprint: str) -> HttpResponse | None:
    """The stored answer to replay, None for a new key; 422 when the key was used for
    another request."""
    record = (
        IdempotencyRecord.objects.filter(
            api_key=api_key, key=key, created_at__gte=timezone.now() - IDEMPOTENCY_TTL
        )
        .only("request_hash", "response_status", "response_body", "response_headers")
        .first()
    )
    if record is None:
        return None
    if record.request_hash != fingerprint:
        raise Unprocessable(
            f"Idempotency-Key {key!r} was already used with a different request; use a new key "
            "for a new request.",
            code="idempotency_key_reused",
        )
    response = HttpResponse(bytes(record.response_body), status=record.response_status)
    for name, value in record.response_headers.items():
        response[name] = value
    response["Idempotent-Replayed"] = "true"
    return response


def idempotency_store(
    *, api_key: ApiKey, key: str, fingerprint: str, response: HttpResponse
) -> None:
    if response.status_code >= 500:
        return
    headers = {h: response[h] for h in _REPLAYED_HEADERS if response.has_header(h)}
    now = timezone.now()
    try:
        with transaction.atomic():
            IdempotencyRecord.objects.filter(
                api_key=api_key, key=key, created_at__lt=now - IDEMPOTENCY_TTL
            ).delete()
            IdempotencyRecord.objects.create(
                api_key=api_key,
                key=key,
                request_hash=fingerprint,
                response_status=response.status_code,
                response_body=response.content,
                response_headers=headers,
                created_at=now,
            )
    except IntegrityError:
        # A concurrent request with the same key stored its answer first; keep that one.
        pass
