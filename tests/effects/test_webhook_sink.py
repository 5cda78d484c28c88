"""The development webhook sink and the signature check it shares with real receivers."""

from __future__ import annotations

import json
import threading
import time

import pytest
import requests
from django.utils import timezone

from effects.management.commands.webhook_sink import PATH, make_server, write_secret
from effects.webhooks import (
    SIGNATURE_TOLERANCE,
    sign,
    verify_signature,
    webhook_deliver,
    webhook_endpoint_create,
)
from issuers.events import webhook_emit
from issuers.models import WebhookDelivery

SECRET = "whsec_test-secret"


def test_verify_signature_accepts_what_sign_produces_and_nothing_else():
    body = b'{"type":"seal.expired"}'
    now = int(time.time())
    header = sign(SECRET, now, body)
    assert verify_signature(secret=SECRET, header=header, body=body, now=now)
    assert not verify_signature(secret="whsec_other", header=header, body=body, now=now)
    assert not verify_signature(secret=SECRET, header=header, body=body + b" ", now=now)
    late = now + SIGNATURE_TOLERANCE + 1
    assert not verify_signature(secret=SECRET, header=header, body=body, now=late)  # replayed
    for garbage in ("", "t=abc,v1=00", f"t={now}", "v1=00", f"t={now},v1=é"):
        assert not verify_signature(secret=SECRET, header=garbage, body=body, now=now)


@pytest.fixture
def sink(tmp_path):
    lines: list[str] = []
    secret_path = tmp_path / "secret"
    server = make_server(port=0, secret_path=secret_path, write=lines.append)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    server.lines = lines
    server.secret_path = secret_path
    server.url = f"http://127.0.0.1:{server.server_address[1]}{PATH}"
    yield server
    server.shutdown()
    server.server_close()


def post(url: str, body: bytes, secret: str, *, at: int | None = None) -> int:
    headers = {
        "Trustseal-Signature": sign(secret, at or int(time.time()), body),
        "Trustseal-Delivery-Id": "d-1",
        "Trustseal-Event": "seal.expired",
    }
    return requests.post(url, data=body, headers=headers, timeout=5).status_code


def test_the_sink_accepts_a_good_signature_and_refuses_a_bad_one(sink):
    write_secret(SECRET, sink.secret_path)
    body = json.dumps({"type": "seal.expired", "data": {"seal": "abc123"}}).encode()
    assert post(sink.url, body, SECRET) == 200
    assert post(sink.url, body, "whsec_wrong") == 400
    assert post(sink.url, body, SECRET, at=int(time.time()) - 3600) == 400
    assert sink.lines == [
        "webhook seal.expired delivery=d-1 seal=abc123 signature=ok",
        "webhook seal.expired delivery=d-1 seal=abc123 signature=bad",
        "webhook seal.expired delivery=d-1 seal=abc123 signature=bad",
    ]


def test_without_the_secret_file_every_delivery_is_refused(sink):
    assert post(sink.url, b"{}", SECRET) == 400
    assert sink.lines == ["webhook seal.expired delivery=d-1 seal=- signature=bad (no secret file)"]


def test_a_real_delivery_reaches_the_sink_signed_and_is_logged_delivered(issuer, sink):
    created = webhook_endpoint_create(issuer=issuer, url=sink.url)  # tests allow loopback
    write_secret(created.secret, sink.secret_path)
    webhook_emit(
        issuer_id=issuer.pk,
        event_type="import.completed",
        data={"import": 7, "state": "succeeded"},
    )
    delivery = WebhookDelivery.objects.get()
    assert webhook_deliver(delivery_id=delivery.pk, now=timezone.now()).state == "delivered"
    delivery.refresh_from_db()
    assert (delivery.state, delivery.response_code) == ("delivered", 200)
    assert sink.lines == [
        f"webhook import.completed delivery={delivery.event_id} import=7 signature=ok"
    ]


def test_the_secret_file_is_owner_only_and_rewritten_when_the_secret_changes(tmp_path):
    path = write_secret("whsec_one", tmp_path / "var" / "secret")
    assert path.read_text() == "whsec_one" and (path.stat().st_mode & 0o077) == 0
    write_secret("whsec_two", path)
    assert path.read_text() == "whsec_two" and (path.stat().st_mode & 0o077) == 0
