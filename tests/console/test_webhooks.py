"""Webhooks for owners: the secret shown once, switching off, a test delivery, the log."""

from __future__ import annotations

import re

from django.urls import reverse

from issuers.models import WebhookDelivery, WebhookEndpoint


def test_an_owner_adds_an_endpoint_and_sees_its_secret_once(world, owner_client):
    response = owner_client.post(
        reverse("console:webhooks"),
        {"url": "https://crm.a.example/hook", "event_types": ["seal.revoked"]},
    )
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    secret = re.search(r"whsec_[\w-]+", response.content.decode()).group(0)
    endpoint = WebhookEndpoint.objects.get(url="https://crm.a.example/hook")
    assert endpoint.secret == secret and endpoint.event_types == ["seal.revoked"]
    assert secret not in owner_client.get(reverse("console:webhooks")).content.decode()


def test_a_bad_url_is_refused(world, owner_client, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    for url in ("ftp://x.example/", "http://127.0.0.1/hook"):
        response = owner_client.post(reverse("console:webhooks"), {"url": url})
        assert response.status_code == 400, url
    assert WebhookEndpoint.objects.filter(issuer=world.issuer).count() == 1


def test_switching_off_and_a_test_delivery(world, owner_client):
    endpoint = world.endpoint
    owner_client.post(reverse("console:webhook-toggle", args=[endpoint.pk]))
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).active is False
    owner_client.post(reverse("console:webhook-toggle", args=[endpoint.pk]))
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).active is True
    response = owner_client.post(reverse("console:webhook-test", args=[endpoint.pk]))
    assert response.status_code == 302
    delivery = WebhookDelivery.objects.get(endpoint=endpoint, event_type="webhook.test")
    page = owner_client.get(reverse("console:webhook", args=[endpoint.pk])).content.decode()
    assert "webhook.test" in page and delivery.get_state_display() in page


def test_managers_cannot_touch_webhooks(world, manager_client):
    assert manager_client.get(reverse("console:webhooks")).status_code == 403
    response = manager_client.post(reverse("console:webhooks"), {"url": "https://x.example/"})
    assert response.status_code == 403
    assert WebhookEndpoint.objects.filter(issuer=world.issuer).count() == 1
