"""Webhook endpoints (secret shown once), their delivery log and ``test`` action; the notices.

Thin adapters around issuers.webhooks; every queryset is scoped to the calling issuer by the
base (another issuer's endpoint or notice is a 404).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from issuers import webhooks
from issuers.api.base import IssuerViewSet
from issuers.models import WebhookDelivery, WebhookEndpoint
from seals.models import Notice

# --- serializers ------------------------------------------------------------------------------


class WebhookEndpointSerializer(serializers.ModelSerializer):
    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=webhooks.EVENT_TYPES),
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


class WebhookDeliverySerializer(serializers.ModelSerializer):
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
            "next_attempt_at",
            "delivered_at",
            "created_at",
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


# --- views ------------------------------------------------------------------------------------


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

    @extend_schema(responses={201: WebhookEndpointCreatedSerializer})
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

    @extend_schema(request=None, responses={202: WebhookDeliverySerializer})
    @action(detail=True, methods=["post"])
    def test(self, request: Request, pk: str) -> Response:
        """Queue a signed ``webhook.test`` delivery to this endpoint."""
        delivery = webhooks.webhook_endpoint_test(endpoint=self.get_object())
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses={200: WebhookDeliverySerializer(many=True)})
    @action(detail=True, methods=["get"])
    def deliveries(self, request: Request, pk: str) -> Response:
        """Every delivery to this endpoint, newest first: state, attempts, response code."""
        endpoint = self.get_object()
        page = self.paginate_queryset(WebhookDelivery.objects.filter(endpoint=endpoint))
        return self.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)


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
