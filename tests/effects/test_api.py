"""The webhook and notice endpoints of the issuer API."""

from datetime import timedelta

import yaml
from django.utils import timezone

from effects.notices import notices_plan
from issuers.models import WebhookDelivery
from seals.models import Notice
from tests.api_support import problem
from tests.factories import MemberFactory, award


def test_creating_an_endpoint_shows_its_secret_once(api):
    created = api.post("/webhooks", {"url": "https://hooks.example/in", "event_types": []})
    assert created.status_code == 201, created.content
    assert created.json()["secret"].startswith("whsec_")
    listed = api.get("/webhooks").json()["results"]
    assert [e["url"] for e in listed] == ["https://hooks.example/in"]
    assert "secret" not in listed[0]
    assert "secret" not in api.get(f"/webhooks/{created.json()['id']}").json()


def test_it_refuses_unknown_event_types_as_problem_json(api):
    response = api.post("/webhooks", {"url": "https://h.example", "event_types": ["seal.eaten"]})
    assert response.status_code == 400
    assert problem(response)["status"] == 400


def test_it_refuses_private_destinations(api, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    response = api.post("/webhooks", {"url": "http://127.0.0.1:8000/x"})
    assert response.status_code == 400
    assert problem(response)


def test_the_test_action_queues_a_delivery_listed_under_the_endpoint(api):
    endpoint = api.post("/webhooks", {"url": "https://hooks.example/in"}).json()
    queued = api.post(f"/webhooks/{endpoint['id']}/test")
    assert queued.status_code == 202
    assert queued.json()["event_type"] == "webhook.test"
    deliveries = api.get(f"/webhooks/{endpoint['id']}/deliveries").json()["results"]
    assert [d["event_type"] for d in deliveries] == ["webhook.test"]
    assert WebhookDelivery.objects.count() == 1


def test_an_endpoint_can_be_changed_and_deleted(api):
    endpoint = api.post("/webhooks", {"url": "https://hooks.example/in"}).json()
    changed = api.patch(f"/webhooks/{endpoint['id']}", {"active": False})
    assert changed.status_code == 200 and changed.json()["active"] is False
    assert api.delete(f"/webhooks/{endpoint['id']}").status_code == 204


def test_another_issuers_endpoint_is_a_404(api, other_api):
    endpoint = api.post("/webhooks", {"url": "https://hooks.example/in"}).json()
    assert other_api.get(f"/webhooks/{endpoint['id']}").status_code == 404
    assert other_api.post(f"/webhooks/{endpoint['id']}/test").status_code == 404
    assert other_api.get(f"/webhooks/{endpoint['id']}/deliveries").status_code == 404


def test_notices_are_listed_and_filtered_per_issuer(api, other_api):
    award(MemberFactory(issuer=api.issuer), days=5)
    notices_plan(now=timezone.now() + timedelta(minutes=1))
    assert Notice.objects.count() == 2  # the 7-day notice and the skipped 30-day one
    pending = api.get("/notices", state="pending").json()["results"]
    assert [n["kind"] for n in pending] == ["expiry_7d"]
    assert other_api.get("/notices").json()["results"] == []
    assert other_api.get(f"/notices/{pending[0]['id']}").status_code == 404


def test_the_delivery_log_lists_every_attempt_with_its_time(api, monkeypatch):
    import time_machine

    from effects.webhooks import webhook_deliver

    codes = iter([500, 200])

    class Answer:
        def __init__(self, status_code):
            self.status_code = status_code

    monkeypatch.setattr("requests.Session.post", lambda *a, **k: Answer(next(codes)))
    endpoint = api.post("/webhooks", {"url": "https://hooks.example/in"}).json()
    delivery_id = api.post(f"/webhooks/{endpoint['id']}/test").json()["id"]
    start = (timezone.now() + timedelta(seconds=1)).replace(microsecond=0)  # once it is due
    with time_machine.travel(start, tick=False) as traveller:
        assert webhook_deliver(delivery_id=delivery_id, now=timezone.now()).state == "pending"
        traveller.move_to(WebhookDelivery.objects.get(pk=delivery_id).next_attempt_at)
        second = timezone.now()
        webhook_deliver(delivery_id=delivery_id, now=second)

    (listed,) = api.get(f"/webhooks/{endpoint['id']}/deliveries").json()["results"]
    assert (listed["state"], listed["attempts"], listed["response_code"]) == ("delivered", 2, 200)
    assert listed["last_attempt_at"] == second.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert [
        (a["number"], a["started_at"], a["response_code"], a["error"])
        for a in listed["attempt_log"]
    ] == [
        (1, start.strftime("%Y-%m-%dT%H:%M:%SZ"), 500, "HTTP 500"),
        (2, second.strftime("%Y-%m-%dT%H:%M:%SZ"), 200, ""),
    ]
    assert all(isinstance(a["duration_ms"], int) for a in listed["attempt_log"])


def test_every_webhook_and_notice_operation_has_an_example():
    from django.test import Client

    schema = yaml.safe_load(Client().get("/api/schema/").content)
    checked = 0
    for path, item in schema["paths"].items():
        if not path.startswith(("/api/v1/webhooks", "/api/v1/notices")):
            continue
        for method, op in item.items():
            if method not in ("get", "post", "patch", "delete"):
                continue
            checked += 1
            success = [c for c in op["responses"] if c.startswith("2") and c != "204"]
            bodies = [op["responses"][c].get("content", {}) for c in success]
            bodies.append(op.get("requestBody", {}).get("content", {}))
            assert not success or any(
                "examples" in media or "example" in media
                for content in bodies
                for media in content.values()
            ), (path, method)
    assert checked == 9  # endpoints: list, create, get, patch, delete, test, deliveries; notices: 2
