"""A broker outage delays side effects; it never fails the request that owes them, nor loses them.

The publish itself fails here (``app.send_task`` raising what kombu raises when Redis refuses the
connection), so the whole path runs: the API view, the service's transaction, the outbox's
on-commit hand-off, ``config.tasks.enqueue``. tests/workers/test_integration_outage.py does the
same against a real Redis that is stopped and started again.
"""

from __future__ import annotations

import pytest
from django.utils import timezone
from kombu.exceptions import OperationalError

from config import tasks
from effects.webhooks import webhook_endpoint_create
from issuers.events import DELIVER_TOPIC
from issuers.models import WebhookDelivery
from outbox import core as outbox
from outbox.models import Message
from tests.factories import MemberFactory, award

pytestmark = pytest.mark.django_db(transaction=True)  # the on-commit hand-offs run for real


class Broker:
    def __init__(self) -> None:
        self.up = False
        self.published: list[tuple[str, tuple]] = []

    def send_task(self, name: str, args: tuple = (), **options: object) -> None:
        if not self.up:
            raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
        self.published.append((name, tuple(args)))


@pytest.fixture
def broker(monkeypatch) -> Broker:
    fake = Broker()
    monkeypatch.setattr(tasks.app, "send_task", fake.send_task)
    return fake


@pytest.fixture
def received(monkeypatch) -> list[dict]:
    calls: list[dict] = []

    class Answer:
        status_code = 200

    def post(session, url, data, headers, **kwargs):
        calls.append({"url": url, "delivery": headers["Trustseal-Delivery-Id"]})
        return Answer()

    monkeypatch.setattr("requests.Session.post", post)
    return calls


def test_seal_actions_during_a_broker_outage_answer_2xx_and_go_out_once_it_returns(
    api, broker, received
):
    webhook_endpoint_create(issuer=api.issuer, url="https://hooks.example/in")
    seal = award(MemberFactory(issuer=api.issuer))
    Message.objects.all().delete()  # what the award owed
    WebhookDelivery.objects.all().delete()

    suspended = api.post(
        f"/seals/{seal.public_id}/suspend", {"reason": "Fees"}, idempotency_key="outage-1"
    )
    assert suspended.status_code == 200, suspended.content
    # The client retries (it could not know): the stored answer, not a 409.
    again = api.post(
        f"/seals/{seal.public_id}/suspend", {"reason": "Fees"}, idempotency_key="outage-1"
    )
    assert (again.status_code, again.json()["status"]) == (200, "suspended")
    revoked = api.post(f"/seals/{seal.public_id}/revoke", {"reason": "Left"})
    assert revoked.status_code == 200, revoked.content

    delivery_ids = set(WebhookDelivery.objects.values_list("pk", flat=True))
    assert len(delivery_ids) == 2  # seal.suspended, seal.revoked
    owed = Message.objects.filter(topic=DELIVER_TOPIC)
    assert {m.payload["delivery_id"] for m in owed} == delivery_ids
    assert not Message.objects.filter(relayed_at__isnull=False).exists()  # none got through
    assert broker.published == []

    broker.up = True
    assert outbox.relay(now=timezone.now()) == Message.objects.count()
    handed = [args[0] for name, args in broker.published if name == outbox.RUN_TASK]
    assert set(handed) == set(Message.objects.values_list("pk", flat=True))
    for message_id in handed:  # what the worker does with each
        outbox.run(message_id)

    assert set(WebhookDelivery.objects.values_list("state", flat=True)) == {"delivered"}
    assert len(received) == 2
    assert not Message.objects.exists()
