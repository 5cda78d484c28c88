"""Webhooks: endpoints, signed delivery with retries, and the SSRF guard.

Events are written as WebhookDelivery rows in the same transaction as the change they report,
each with one outbox message (issuers.events); the outbox hands it to a worker, leases it and
re-runs it if the worker dies (outbox.core). A delivery is marked ``delivering`` before the
request and its outcome after it, so a worker that dies mid-way leaves a ``delivering`` row that
the next run of its message takes up again; the receiver may then see the same
``Trustseal-Delivery-Id`` twice and de-duplicates on it.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import math
import secrets
import socket
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from config.errors import DomainError
from effects.backoff import backoff_seconds
from issuers.events import EVENT_TYPES, deliveries_owe, event_envelope
from issuers.models import Issuer, WebhookAttempt, WebhookDelivery, WebhookEndpoint

# Sent by the API's test action to one endpoint, whatever it subscribed to.
TEST_EVENT = "webhook.test"
SIGNATURE_HEADER = "Trustseal-Signature"
DELIVERY_HEADER = "Trustseal-Delivery-Id"
EVENT_HEADER = "Trustseal-Event"
# Retries spread over a day, so a receiver down overnight still gets every event: the window
# decides. The last attempt is made at the end of the window, then the delivery fails. The
# equal-jitter back-off (30 s base, 6 h cap) fits 14 to 18 attempts into 24 h
# (tests/effects/test_webhooks.py); MAX_ATTEMPTS is only a backstop against a delivery
# re-claimed after crash upon crash, far above what the window needs.
RETRY_WINDOW = timedelta(hours=24)
MAX_ATTEMPTS = 50
REQUEST_TIMEOUT = (5, 10)  # connect, read


log = logging.getLogger(__name__)


class WebhookDestinationError(DomainError):
    """The URL points somewhere a webhook may not go (private, loopback, not http(s))."""

    field = "url"


# --- endpoints ------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewEndpoint:
    endpoint: WebhookEndpoint
    secret: str  # shown once, on creation


def _validate_event_types(event_types: list[str]) -> list[str]:
    unknown = sorted(set(event_types) - set(EVENT_TYPES))
    if unknown:
        raise ValidationError({"event_types": f"Unknown event types: {', '.join(unknown)}"})
    return sorted(set(event_types))


def _validate_url(url: str) -> str:
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError as exc:
        raise ValidationError({"url": "Enter an http(s) URL."}) from exc
    try:
        check_destination(url)
    except WebhookDestinationError as exc:
        raise ValidationError({"url": str(exc)}) from exc
    return url


@transaction.atomic
def webhook_endpoint_create(
    *, issuer: Issuer, url: str, event_types: list[str] | None = None
) -> NewEndpoint:
    """An endpoint subscribed to ``event_types`` (empty: every event). The secret is returned
    once; it is stored encrypted because every delivery must be signed with it."""
    secret = f"whsec_{secrets.token_urlsafe(32)}"
    endpoint = WebhookEndpoint.objects.create(
        issuer=issuer,
        url=_validate_url(url),
        secret=secret,
        event_types=_validate_event_types(event_types or []),
    )
    return NewEndpoint(endpoint=endpoint, secret=secret)


@transaction.atomic
def webhook_endpoint_update(
    *,
    endpoint: WebhookEndpoint,
    url: str | None = None,
    event_types: list[str] | None = None,
    active: bool | None = None,
) -> WebhookEndpoint:
    if url is not None:
        endpoint.url = _validate_url(url)
    if event_types is not None:
        endpoint.event_types = _validate_event_types(event_types)
    if active is not None:
        endpoint.active = active
    endpoint.save()
    return endpoint


@transaction.atomic
def webhook_endpoint_test(*, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """The API's ``test`` action: a signed ``webhook.test`` delivery to this endpoint only."""
    now = timezone.now()
    envelope = event_envelope(TEST_EVENT, {"message": "Test delivery"}, now, endpoint.issuer.slug)
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint,
        event_id=envelope["id"],
        event_type=TEST_EVENT,
        payload=envelope,
        next_attempt_at=now,
        created_at=now,
    )
    deliveries_owe([delivery.pk])
    return delivery


# --- delivery -------------------------------------------------------------------------------


def _mac(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """``t=<unix>,v1=<hex HMAC-SHA256 of "t.body">``; receivers should reject old t (replays)."""
    return f"t={timestamp},v1={_mac(secret, timestamp, body)}"


SIGNATURE_TOLERANCE = 300  # seconds a receiver accepts between our clock and its own


def verify_signature(
    *,
    secret: str,
    header: str,
    body: bytes,
    now: int | None = None,
    tolerance: int = SIGNATURE_TOLERANCE,
) -> bool:
    """The receiver's side of ``sign``: the ``Trustseal-Signature`` header matches the raw body
    and its timestamp lies within ``tolerance`` seconds of ``now`` (a replayed old request
    fails). Compared in constant time."""
    fields = dict(part.strip().split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(fields.get("t", ""))
    except ValueError:
        return False
    if abs((int(time.time()) if now is None else now) - timestamp) > tolerance:
        return False
    expected = _mac(secret, timestamp, body).encode()
    return hmac.compare_digest(fields.get("v1", "").encode(), expected)


def check_destination(url: str) -> None:
    """Refuse URLs that resolve to private, loopback, link-local or reserved addresses.

    Every address the name resolves to is checked, so a name with one public and one private
    address is refused. Redirects are never followed (see ``_post``). What remains is DNS
    rebinding between this check and the connection; pinning the address would break TLS name
    checks in ``requests``, so that residue is accepted and documented in docs/operations.md.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookDestinationError("Webhook URLs must be http(s) with a host name.")
    if getattr(settings, "WEBHOOKS_ALLOW_PRIVATE", False):
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise WebhookDestinationError(f"{parts.hostname} does not resolve.") from exc
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])  # an IP, scope id cut
        if not address.is_global or address.is_multicast:
            raise WebhookDestinationError(
                f"{parts.hostname} resolves to a non-public address; webhooks go to the internet."
            )


@dataclass(frozen=True)
class DeliveryOutcome:
    # delivered / pending (retry at ``retry_at``) / failed / not_due (come back at ``retry_at``)
    # / skipped (done already, or gone)
    state: str
    retry_at: datetime | None = None


def _start_attempt(delivery_id: int, now: datetime) -> bool:
    """Mark the delivery as being sent: a pending one that is due, or one a worker died
    sending (its outbox lease ran out before this run could start, so it is ours now)."""
    return bool(
        WebhookDelivery.objects.filter(pk=delivery_id)
        .filter(
            Q(state=WebhookDelivery.State.PENDING, next_attempt_at__lte=now)
            | Q(state=WebhookDelivery.State.DELIVERING)
        )
        .update(state=WebhookDelivery.State.DELIVERING, attempts=F("attempts") + 1)
    )


def _post(delivery: WebhookDelivery) -> int:
    check_destination(delivery.endpoint.url)
    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Trustseal-Webhooks/1",
        SIGNATURE_HEADER: sign(delivery.endpoint.secret, int(time.time()), body),
        DELIVERY_HEADER: str(delivery.event_id),
        EVENT_HEADER: delivery.event_type,
    }
    with requests.Session() as session:
        session.trust_env = False  # no proxy from the environment: the guard checked this host
        response = session.post(
            delivery.endpoint.url,
            data=body,
            headers=headers,
            timeout=REQUEST_TIMEOUT,
            allow_redirects=False,
        )
    return response.status_code


def webhook_deliver(*, delivery_id: int, now: datetime) -> DeliveryOutcome:
    """Mark → POST → record. Steps (one run of the delivery's outbox message, which makes this
    worker its only sender):

    1. conditional UPDATE to ``delivering`` (row count 0: it is done, gone, or not yet due);
    2. POST the signed body (no redirects, private addresses refused);
    3. log the attempt (time, duration, response code or error) as a WebhookAttempt row;
    4. mark ``delivered`` on 2xx; otherwise back to ``pending`` with a jittered back-off, never
       past the end of the 24-hour window (the last attempt falls on it), or ``failed`` once the
       window is used up. The marks are conditional on the row still being ``delivering``.
    """
    if not _start_attempt(delivery_id, now):
        row = WebhookDelivery.objects.filter(pk=delivery_id).values("state", "next_attempt_at")
        current = row.first()
        if current and current["state"] == WebhookDelivery.State.PENDING:
            return DeliveryOutcome("not_due", retry_at=current["next_attempt_at"])
        return DeliveryOutcome("skipped")
    delivery = WebhookDelivery.objects.select_related("endpoint__issuer").get(pk=delivery_id)
    ours = WebhookDelivery.objects.filter(pk=delivery_id, state=WebhookDelivery.State.DELIVERING)
    code: int | None = None
    error = ""
    started = timezone.now()
    clock = time.monotonic()
    try:
        code = _post(delivery)
    except WebhookDestinationError as exc:
        error = str(exc)
    except requests.RequestException as exc:
        error = f"{type(exc).__name__}: {exc}"[:500]
    finished = timezone.now()
    delivered = code is not None and 200 <= code < 300
    if not delivered:
        error = error or f"HTTP {code}"
    try:
        with transaction.atomic():
            WebhookAttempt.objects.create(
                delivery_id=delivery_id,
                number=delivery.attempts,
                started_at=started,
                duration_ms=int((time.monotonic() - clock) * 1000),
                response_code=code,
                error=error,
            )
    except IntegrityError:
        # The endpoint (and with it this delivery) was deleted while we were sending.
        log.info("webhook delivery %s vanished during its attempt", delivery_id)
        return DeliveryOutcome("skipped")
    if delivered:
        ours.update(
            state=WebhookDelivery.State.DELIVERED,
            delivered_at=finished,
            last_attempt_at=started,
            response_code=code,
            last_error="",
        )
        log.info("webhook %s %s delivered (HTTP %s)", delivery.event_type, delivery.event_id, code)
        return DeliveryOutcome("delivered")
    log.warning(
        "webhook %s %s attempt %d failed: %s",
        delivery.event_type,
        delivery.event_id,
        delivery.attempts,
        error,
    )
    deadline = delivery.created_at + RETRY_WINDOW
    if delivery.attempts >= MAX_ATTEMPTS or finished >= deadline:
        ours.update(
            state=WebhookDelivery.State.FAILED,
            last_attempt_at=started,
            response_code=code,
            last_error=error,
        )
        return DeliveryOutcome("failed")
    delay = backoff_seconds(delivery.attempts, base=30, cap=settings.WEBHOOK_BACKOFF_CAP_SECONDS)
    # A back-off reaching past the window is cut to its end: one last try at 24 h, not at 24 h
    # plus up to 6 h, and none given up early.
    delay = max(1, min(delay, math.ceil((deadline - finished).total_seconds())))
    retry_at = finished + timedelta(seconds=delay)
    ours.update(
        state=WebhookDelivery.State.PENDING,
        next_attempt_at=retry_at,
        last_attempt_at=started,
        response_code=code,
        last_error=error,
    )
    return DeliveryOutcome("pending", retry_at=retry_at)
