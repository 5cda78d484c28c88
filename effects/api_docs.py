"""OpenAPI documentation of effects.api (summaries, descriptions, examples), applied to each
view class in one line."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view

from effects.serializers import (
    WebhookDeliverySerializer,
    WebhookEndpointCreatedSerializer,
    WebhookEndpointSerializer,
)

ENDPOINT_EXAMPLE = {
    "id": 7,
    "url": "https://crm.bakers-guild.example/hooks/trustseal",
    "event_types": ["seal.expired", "seal.revoked"],
    "active": True,
    "created_at": "2026-01-05T09:30:00Z",
    "updated_at": "2026-01-05T09:30:00Z",
}
ENDPOINT_INPUT = {
    "url": "https://crm.bakers-guild.example/hooks/trustseal",
    "event_types": ["seal.expired", "seal.revoked"],
}
DELIVERY_EXAMPLE = {
    "id": 3181,
    "event_id": "3e2d4974-5b1c-4c39-9b7e-0f7f2d1c9a10",
    "event_type": "seal.expired",
    "state": "delivered",
    "attempts": 2,
    "response_code": 200,
    "last_error": "",
    "last_attempt_at": "2026-03-01T08:00:41Z",
    "next_attempt_at": "2026-03-01T08:00:41Z",
    "delivered_at": "2026-03-01T08:00:41Z",
    "created_at": "2026-03-01T08:00:00Z",
    "attempt_log": [
        {
            "number": 1,
            "started_at": "2026-03-01T08:00:01Z",
            "duration_ms": 5012,
            "response_code": None,
            "error": "ReadTimeout: read timed out",
        },
        {
            "number": 2,
            "started_at": "2026-03-01T08:00:41Z",
            "duration_ms": 184,
            "response_code": 200,
            "error": "",
        },
    ],
    "payload": {
        "id": "3e2d4974-5b1c-4c39-9b7e-0f7f2d1c9a10",
        "type": "seal.expired",
        "created": "2026-03-01T08:00:00+00:00",
        "issuer": "bakers-guild",
        "data": {"seal": "lTGEV4IV_2izaXUiQsM3iQ", "status": "expired", "member": "GB-0042"},
    },
}
TEST_DELIVERY_EXAMPLE = {
    **DELIVERY_EXAMPLE,
    "event_type": "webhook.test",
    "state": "pending",
    "attempts": 0,
    "response_code": None,
    "last_attempt_at": None,
    "next_attempt_at": "2026-03-01T08:00:00Z",
    "delivered_at": None,
    "attempt_log": [],
    "payload": {
        "id": "3e2d4974-5b1c-4c39-9b7e-0f7f2d1c9a10",
        "type": "webhook.test",
        "created": "2026-03-01T08:00:00+00:00",
        "issuer": "bakers-guild",
        "data": {"message": "Test delivery"},
    },
}
NOTICE_EXAMPLE = {
    "id": 52,
    "seal": "lTGEV4IV_2izaXUiQsM3iQ",
    "kind": "expiry_7d",
    "cycle": "2026-03-08",
    "state": "failed",
    "attempts": 6,
    "due_at": "2026-03-01T00:00:00Z",
    "sent_at": None,
    "recipient_is_issuer": False,
    "last_error": "SMTPRecipientsRefused 550",
    "created_at": "2026-03-01T00:00:12Z",
}


webhook_endpoints = extend_schema_view(
    list=extend_schema(
        summary="List webhook endpoints",
        tags=["webhooks"],
        examples=[OpenApiExample("Endpoints", value=ENDPOINT_EXAMPLE, response_only=True)],
    ),
    retrieve=extend_schema(
        summary="Get a webhook endpoint",
        tags=["webhooks"],
        examples=[OpenApiExample("Endpoint", value=ENDPOINT_EXAMPLE, response_only=True)],
    ),
    partial_update=extend_schema(
        summary="Change a webhook endpoint (URL, event types, active)",
        tags=["webhooks"],
        examples=[
            OpenApiExample("Pause", value={"active": False}, request_only=True),
            OpenApiExample(
                "Endpoint", value={**ENDPOINT_EXAMPLE, "active": False}, response_only=True
            ),
        ],
    ),
    destroy=extend_schema(
        summary="Delete a webhook endpoint and its delivery log", tags=["webhooks"]
    ),
    create=extend_schema(
        summary="Create a webhook endpoint (the signing secret is shown once)",
        tags=["webhooks"],
        request=WebhookEndpointSerializer,
        responses={201: WebhookEndpointCreatedSerializer},
        examples=[
            OpenApiExample("Endpoint", value=ENDPOINT_INPUT, request_only=True),
            OpenApiExample(
                "Created",
                value={**ENDPOINT_EXAMPLE, "secret": "whsec_2bQ0m1cYpQ8v0o6Xb3n6S5r9kzA4dE7hF1jL"},
                response_only=True,
                status_codes=["201"],
            ),
        ],
    ),
    test=extend_schema(
        summary="Send a signed test delivery to this endpoint",
        tags=["webhooks"],
        request=None,
        responses={202: WebhookDeliverySerializer},
        examples=[
            OpenApiExample(
                "Queued", value=TEST_DELIVERY_EXAMPLE, response_only=True, status_codes=["202"]
            )
        ],
    ),
    deliveries=extend_schema(
        summary="The delivery log of this endpoint",
        tags=["webhooks"],
        responses={200: WebhookDeliverySerializer(many=True)},
        examples=[OpenApiExample("Deliveries", value=DELIVERY_EXAMPLE, response_only=True)],
    ),
)


notices = extend_schema_view(
    list=extend_schema(
        summary="List membership-expiry notices",
        tags=["notices"],
        examples=[OpenApiExample("Notices", value=NOTICE_EXAMPLE, response_only=True)],
    ),
    retrieve=extend_schema(
        summary="Get a notice",
        tags=["notices"],
        examples=[OpenApiExample("Notice", value=NOTICE_EXAMPLE, response_only=True)],
    ),
)
