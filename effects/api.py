"""Webhook endpoints (secret shown once), their delivery log and ``test`` action; the notices.

Thin adapters around effects.webhooks; every queryset is scoped to the calling issuer by the
base (another issuer's endpoint or notice is a 404).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from effects import webhooks
from issuers.api.base import IssuerViewSet
from issuers.events import EVENT_TYPES
from issuers.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from seals.api.serializers import StrictModelSerializer
from seals.models import Notice

# --- serializers ------------------------------------------------------------------------------


class WebhookEndpointSerializer(StrictModelSerializer):
    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=EVENT_TYPES),
        required=False,
        help_text="Events to receive; empty for all.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "url", "event_types", "active", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]


class WebhookEndpointCreatedSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(
        read_only=True, help_text="Signing secret: shown once, in this response only."
    )

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]


class WebhookAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = ["number", "started_at", "duration_ms", "response_code", "error"]
        read_only_fields = fields


class WebhookDeliverySerializer(serializers.ModelSerializer):
    attempt_log = WebhookAttemptSerializer(
        many=True,
        read_only=True,
        help_text="Every attempt, oldest first: when, how long, the HTTP status or the error.",
    )

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event_id",
            "event_type",
            "state",
            "attempts",
            "response_code",
            "last_error",
            "last_attempt_at",
            "next_attempt_at",
            "delivered_at",
            "created_at",
            "attempt_log",
            "payload",
        ]
        read_only_fields = fields


class NoticeSerializer(serializers.ModelSerializer):
    seal = serializers.CharField(source="seal.public_id", read_only=True)

    class Meta:
        model = Notice
        fields = [
            "id",
            "seal",
            "kind",
            "cycle",
            "state",
            "attempts",
            "due_at",
            "sent_at",
            "recipient_is_issuer",
            "last_error",
            "created_at",
        ]
        read_only_fields = fields


# --- examples ---------------------------------------------------------------------------------

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


# --- views ------------------------------------------------------------------------------------


@extend_schema_view(
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
)
class WebhookEndpointViewSet(
    IssuerViewSet,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
):
    queryset = WebhookEndpoint.objects.all()
    serializer_class = WebhookEndpointSerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    @extend_schema(
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
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        incoming = WebhookEndpointSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        created = webhooks.webhook_endpoint_create(
            issuer=request.issuer,
            url=incoming.validated_data["url"],
            event_types=incoming.validated_data.get("event_types", []),
        )
        body = WebhookEndpointCreatedSerializer(created.endpoint).data
        body["secret"] = created.secret
        return Response(body, status=status.HTTP_201_CREATED)

    def perform_update(self, serializer: WebhookEndpointSerializer) -> None:
        data = serializer.validated_data
        serializer.instance = webhooks.webhook_endpoint_update(
            endpoint=serializer.instance,
            url=data.get("url"),
            event_types=data.get("event_types"),
            active=data.get("active"),
        )

    @extend_schema(
        summary="Send a signed test delivery to this endpoint",
        tags=["webhooks"],
        request=None,
        responses={202: WebhookDeliverySerializer},
        examples=[
            OpenApiExample(
                "Queued", value=TEST_DELIVERY_EXAMPLE, response_only=True, status_codes=["202"]
            )
        ],
    )
    @action(detail=True, methods=["post"])
    def test(self, request: Request, pk: str) -> Response:
        """Queue a signed ``webhook.test`` delivery to this endpoint."""
        delivery = webhooks.webhook_endpoint_test(endpoint=self.get_object())
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="The delivery log of this endpoint",
        tags=["webhooks"],
        responses={200: WebhookDeliverySerializer(many=True)},
        examples=[OpenApiExample("Deliveries", value=DELIVERY_EXAMPLE, response_only=True)],
    )
    @action(detail=True, methods=["get"])
    def deliveries(self, request: Request, pk: str) -> Response:
        """Every delivery to this endpoint of the last 30 days (retention), newest first, with
        each attempt's time, duration and response code or error."""
        endpoint = self.get_object()
        deliveries = WebhookDelivery.objects.filter(endpoint=endpoint).prefetch_related(
            "attempt_log"
        )
        page = self.paginate_queryset(deliveries)
        return self.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)


@extend_schema_view(
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
class NoticeViewSet(IssuerViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Membership-expiry notices: ``?state=failed`` lists the ones that could not be sent."""

    queryset = Notice.objects.select_related("seal")
    serializer_class = NoticeSerializer
    issuer_field = "seal__issuer"

    def get_queryset(self) -> QuerySet[Notice]:
        queryset = super().get_queryset()
        for field in ("state", "kind"):
            value = self.request.query_params.get(field)
            if value:
                queryset = queryset.filter(**{field: value})
        seal = self.request.query_params.get("seal")
        if seal:
            queryset = queryset.filter(seal__public_id=seal)
        return queryset
