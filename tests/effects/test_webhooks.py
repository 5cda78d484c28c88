"""Webhooks: rows owed through the outbox, signed delivery, retries over a day, the SSRF guard."""

import hashlib
import hmac
import json
from datetime import timedelta

import pytest
import requests
from django.core.exceptions import ValidationError
from django.utils import timezone

from effects.webhooks import (
    WebhookDestinationError,
    check_destination,
    sign,
    webhook_deliver,
    webhook_endpoint_create,
    webhook_endpoint_test,
)
from issuers.events import DELIVER_TOPIC, webhook_emit
from issuers.models import WebhookDelivery
from outbox import core as outbox
from outbox.models import Message
from seals.services import seal_suspend
from tests.factories import MemberFactory, award


class FakeResponse:
    def __init__(self, status_code):
        self.status_code = status_code


class Calls(list):
    status: dict


@pytest.fixture
def posted(monkeypatch):
    calls = Calls()
    status = {"code": 200}

    def post(self, url, data, headers, **kwargs):
        calls.append({"url": url, "body": data, "headers": headers, **kwargs})
        return FakeResponse(status["code"])

    monkeypatch.setattr("requests.Session.post", post)
    calls.status = status
    return calls


@pytest.fixture
def endpoint(issuer):
    return webhook_endpoint_create(issuer=issuer, url="https://hooks.example/in")


def test_the_secret_is_shown_once_and_stored_encrypted(issuer):
    created = webhook_endpoint_create(issuer=issuer, url="https://hooks.example/in")
    assert created.secret.startswith("whsec_")
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("select secret from issuers_webhookendpoint")
        (raw,) = cursor.fetchone()
    assert created.secret not in raw


def test_it_refuses_unknown_event_types_and_non_http_urls(issuer):
    with pytest.raises(ValidationError):
        webhook_endpoint_create(issuer=issuer, url="https://h.example", event_types=["seal.eaten"])
    with pytest.raises(ValidationError):
        webhook_endpoint_create(issuer=issuer, url="ftp://h.example/x")


def test_seal_changes_queue_a_delivery_for_subscribed_endpoints_only(issuer):
    webhook_endpoint_create(issuer=issuer, url="https://a.example", event_types=["seal.revoked"])
    subscribed = webhook_endpoint_create(
        issuer=issuer, url="https://b.example", event_types=["seal.suspended"]
    ).endpoint
    seal = award(MemberFactory(issuer=issuer))
    seal_suspend(seal=seal, reason="complaint", actor="t")
    delivery = WebhookDelivery.objects.get()
    assert delivery.endpoint == subscribed and delivery.event_type == "seal.suspended"
    assert delivery.payload["data"]["seal"] == seal.public_id
    assert "complaint" not in json.dumps(delivery.payload)  # reasons may hold personal data


def test_a_delivery_is_signed_over_timestamp_and_body(endpoint, posted):
    webhook_emit(issuer_id=endpoint.endpoint.issuer_id, event_type="member.updated", data={"m": 1})
    delivery = WebhookDelivery.objects.get()
    assert webhook_deliver(delivery_id=delivery.pk, now=timezone.now()).state == "delivered"
    call = posted[0]
    header = call["headers"]["Trustseal-Signature"]
    t, v1 = (part.split("=", 1)[1] for part in header.split(","))
    expected = hmac.new(
        endpoint.secret.encode(), f"{t}.".encode() + call["body"], hashlib.sha256
    ).hexdigest()
    assert v1 == expected == sign(endpoint.secret, int(t), call["body"]).split("v1=")[1]
    assert call["headers"]["Trustseal-Delivery-Id"] == str(delivery.event_id)
    assert call["allow_redirects"] is False
    assert json.loads(call["body"])["type"] == "member.updated"
    delivery.refresh_from_db()
    assert (delivery.state, delivery.response_code, delivery.attempts) == ("delivered", 200, 1)


def test_a_failed_delivery_is_retried_with_back_off_then_fails_after_a_day(endpoint, posted):
    posted.status["code"] = 503
    webhook_emit(issuer_id=endpoint.endpoint.issuer_id, event_type="member.updated", data={})
    delivery = WebhookDelivery.objects.get()
    outcome = webhook_deliver(delivery_id=delivery.pk, now=timezone.now())
    delivery.refresh_from_db()
    assert outcome.state == "pending" and outcome.retry_at > timezone.now()
    assert delivery.response_code == 503 and delivery.next_attempt_at == outcome.retry_at
    early = webhook_deliver(delivery_id=delivery.pk, now=timezone.now())
    assert (early.state, early.retry_at) == ("not_due", delivery.next_attempt_at)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        created_at=timezone.now() - timedelta(hours=25)
    )
    outcome = webhook_deliver(delivery_id=delivery.pk, now=timezone.now() + timedelta(days=1))
    assert outcome.state == "failed"


def test_network_errors_are_logged_and_retried(endpoint, monkeypatch):
    def boom(*a, **k):
        raise requests.ConnectionError("refused")

    monkeypatch.setattr("requests.Session.post", boom)
    webhook_emit(issuer_id=endpoint.endpoint.issuer_id, event_type="member.updated", data={})
    delivery = WebhookDelivery.objects.get()
    assert webhook_deliver(delivery_id=delivery.pk, now=timezone.now()).state == "pending"
    delivery.refresh_from_db()
    assert "ConnectionError" in delivery.last_error


def test_the_test_action_sends_to_one_endpoint_whatever_it_subscribed(issuer, posted):
    only_revoked = webhook_endpoint_create(
        issuer=issuer, url="https://a.example", event_types=["seal.revoked"]
    ).endpoint
    delivery = webhook_endpoint_test(endpoint=only_revoked)
    assert webhook_deliver(delivery_id=delivery.pk, now=timezone.now()).state == "delivered"
    assert json.loads(posted[0]["body"])["type"] == "webhook.test"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/x",
        "http://localhost:8000/x",
        "http://10.0.0.8/x",
        "http://192.168.1.1/x",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/x",
        "http://0.0.0.0/x",
    ],
)
def test_it_refuses_private_and_loopback_destinations(settings, url):
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    with pytest.raises(WebhookDestinationError):
        check_destination(url)


def test_a_private_destination_fails_the_delivery_attempt_without_a_request(
    settings, endpoint, posted
):
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    type(endpoint.endpoint).objects.filter(pk=endpoint.endpoint.pk).update(
        url="http://127.0.0.1:9/x"
    )
    webhook_emit(issuer_id=endpoint.endpoint.issuer_id, event_type="member.updated", data={})
    delivery = WebhookDelivery.objects.get()
    assert webhook_deliver(delivery_id=delivery.pk, now=timezone.now()).state == "pending"
    assert posted == []


def test_every_delivery_is_owed_as_one_outbox_message_with_the_change(endpoint, posted):
    seal = award(MemberFactory(issuer=endpoint.endpoint.issuer))
    seal_suspend(seal=seal, reason="complaint", actor="t")
    deliveries = {d.pk for d in WebhookDelivery.objects.all()}
    owed = {m.payload["delivery_id"] for m in Message.objects.filter(topic=DELIVER_TOPIC)}
    assert len(deliveries) == 2 and owed == deliveries  # seal.issued, seal.suspended
    outbox.drain()
    assert set(WebhookDelivery.objects.values_list("state", flat=True)) == {"delivered"}
    assert not Message.objects.filter(topic=DELIVER_TOPIC).exists()


def test_a_failed_attempt_leaves_its_message_due_at_the_back_off(endpoint, posted):
    posted.status["code"] = 503
    webhook_emit(issuer_id=endpoint.endpoint.issuer_id, event_type="member.updated", data={})
    message = Message.objects.get(topic=DELIVER_TOPIC)
    assert outbox.run(message.pk) == "retry"
    delivery = WebhookDelivery.objects.get()
    message.refresh_from_db()
    assert delivery.state == "pending" and message.due_at == delivery.next_attempt_at
    assert message.leased_until is None  # the relay hands it off when due
    assert outbox.run(message.pk) == "skipped"  # not due yet: nothing sent
    assert len(posted) == 1


def test_a_delivery_left_mid_flight_is_taken_up_by_the_next_run_of_its_message(
    endpoint, posted, monkeypatch
):
    handed_off = []
    monkeypatch.setattr(outbox, "enqueue", lambda name, pk, **options: handed_off.append(pk))
    webhook_emit(issuer_id=endpoint.endpoint.issuer_id, event_type="member.updated", data={})
    delivery = WebhookDelivery.objects.get()
    message = Message.objects.get(topic=DELIVER_TOPIC)
    # A worker claimed the message, marked the delivery and died before the POST.
    start = timezone.now()
    lease = start + timedelta(seconds=90)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(state="delivering", attempts=1)
    Message.objects.filter(pk=message.pk).update(leased_until=lease, relayed_at=start)
    assert outbox.relay(now=start + timedelta(seconds=5)) == 0  # still leased
    assert outbox.run(message.pk) == "skipped"
    assert outbox.relay(now=lease + timedelta(seconds=1)) == 1
    assert handed_off == [message.pk]
    assert outbox.run(message.pk, now=lease + timedelta(seconds=1)) == "done"
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, len(posted)) == ("delivered", 2, 1)


def test_a_member_update_queues_member_updated_with_field_names_only(issuer):
    from seals.registry import member_update

    webhook_endpoint_create(issuer=issuer, url="https://a.example", event_types=["member.updated"])
    member = MemberFactory(issuer=issuer)
    member_update(member=member, contact_email="new@member.example", display_name="New Name")
    delivery = WebhookDelivery.objects.get()
    assert delivery.payload["data"] == {
        "member": member.external_ref,
        "fields": ["contact_email", "display_name"],
    }
    assert "new@member.example" not in json.dumps(delivery.payload)


def test_a_member_update_whose_webhook_cannot_be_queued_changes_nothing(issuer, monkeypatch):
    import seals.registry
    from issuers.models import Member

    member = MemberFactory(issuer=issuer, display_name="Old Name")

    def broken_outbox(**kwargs):
        raise RuntimeError("outbox unavailable")

    monkeypatch.setattr(seals.registry, "webhook_emit", broken_outbox)
    with pytest.raises(RuntimeError):
        seals.registry.member_update(member=member, display_name="New Name")
    assert Member.objects.get(pk=member.pk).display_name == "Old Name"


def test_a_delivery_failing_every_time_is_retried_until_24_h_then_fails(endpoint, monkeypatch):
    import time_machine

    from effects.webhooks import RETRY_WINDOW

    # The shortest back-offs (jitter at its minimum) pack the most attempts into the day: 18,
    # past the old 15-attempt cap that gave up after ~16 h.
    monkeypatch.setattr("effects.backoff.random.uniform", lambda low, high: low)
    monkeypatch.setattr("requests.Session.post", lambda *a, **k: FakeResponse(503))
    start = timezone.now().replace(microsecond=0)
    with time_machine.travel(start, tick=False) as traveller:
        webhook_emit(issuer_id=endpoint.endpoint.issuer_id, event_type="member.updated", data={})
        delivery = WebhookDelivery.objects.get()
        deadline = delivery.created_at + RETRY_WINDOW
        outcomes = []
        while True:
            outcome = webhook_deliver(delivery_id=delivery.pk, now=timezone.now())
            outcomes.append((timezone.now(), outcome.state))
            delivery.refresh_from_db()
            if outcome.state != "pending":
                break
            assert delivery.next_attempt_at <= deadline + timedelta(seconds=1)
            # A second early: the claim refuses and nothing is sent.
            traveller.move_to(delivery.next_attempt_at - timedelta(seconds=1))
            assert webhook_deliver(delivery_id=delivery.pk, now=timezone.now()).state == "not_due"
            traveller.move_to(delivery.next_attempt_at)

    times = [at for at, _ in outcomes]
    assert [state for _, state in outcomes] == ["pending"] * (len(outcomes) - 1) + ["failed"]
    assert all(at < deadline for at in times[:-1])  # never given up before 24 h
    assert deadline <= times[-1] <= deadline + timedelta(seconds=1)  # the last try, at 24 h
    assert len(outcomes) == delivery.attempts == delivery.attempt_log.count() == 18
    assert delivery.state == "failed" and delivery.last_attempt_at == times[-1]
    # After the window nothing is attempted again, however often the message comes back.
    later = deadline + timedelta(hours=6)
    assert webhook_deliver(delivery_id=delivery.pk, now=later).state == "skipped"


def test_every_attempt_is_logged_with_its_time_duration_and_outcome(endpoint, monkeypatch):
    import time_machine

    answers = iter([requests.ConnectTimeout("timed out"), FakeResponse(503), FakeResponse(204)])

    def post(*a, **k):
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    monkeypatch.setattr("requests.Session.post", post)
    start = timezone.now().replace(microsecond=0)
    with time_machine.travel(start, tick=False) as traveller:
        webhook_emit(issuer_id=endpoint.endpoint.issuer_id, event_type="member.updated", data={})
        delivery = WebhookDelivery.objects.get()
        moments = []
        for _ in range(3):
            delivery.refresh_from_db()
            traveller.move_to(delivery.next_attempt_at)
            moments.append(timezone.now())
            webhook_deliver(delivery_id=delivery.pk, now=timezone.now())

    delivery.refresh_from_db()
    log = list(delivery.attempt_log.all())
    assert [(a.number, a.started_at, a.response_code) for a in log] == [
        (1, moments[0], None),
        (2, moments[1], 503),
        (3, moments[2], 204),
    ]
    assert log[0].error.startswith("ConnectTimeout") and log[1].error == "HTTP 503"
    assert log[2].error == "" and all(a.duration_ms >= 0 for a in log)
    assert moments[0] < moments[1] < moments[2]
    assert (delivery.state, delivery.last_attempt_at) == ("delivered", moments[2])


@pytest.mark.django_db(transaction=True)  # the attempt's foreign key is checked on commit
def test_an_endpoint_deleted_during_an_attempt_ends_it_quietly(endpoint, monkeypatch):
    def post(*a, **k):
        type(endpoint.endpoint).objects.filter(pk=endpoint.endpoint.pk).delete()
        return FakeResponse(200)

    monkeypatch.setattr("requests.Session.post", post)
    webhook_emit(issuer_id=endpoint.endpoint.issuer_id, event_type="member.updated", data={})
    delivery = WebhookDelivery.objects.get()

    assert webhook_deliver(delivery_id=delivery.pk, now=timezone.now()).state == "skipped"
    assert not WebhookDelivery.objects.exists()
