"""Webhook endpoints (secret shown once), their delivery log and ``test`` action; the notices.

Thin adapters around effects.webhooks; every queryset is scoped to the calling issuer by the
base (another issuer's endpoint or notice is a 404).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from effects import api_docs as docs
from effects import webhooks
from effects.serializers import (
    NoticeSerializer,
    WebhookDeliverySerializer,
    WebhookEndpointCreatedSerializer,
    WebhookEndpointSerializer,
)
from issuers.api.base import IssuerViewSet, updated_instance
from issuers.models import WebhookDelivery, WebhookEndpoint
from seals.models import Notice


@docs.webhook_endpoints
class WebhookEndpointViewSet(
    IssuerViewSet,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
):
    queryset = WebhookEndpoint.objects.none()
    serializer_class = WebhookEndpointSerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        incoming = WebhookEndpointSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        created = webhooks.webhook_endpoint_create(
            issuer=self.request.issuer,
            url=incoming.validated_data["url"],
            event_types=incoming.validated_data.get("event_types", []),
        )
        body = WebhookEndpointCreatedSerializer(created.endpoint).data
        body["secret"] = created.secret
        return Response(body, status=status.HTTP_201_CREATED)

    def perform_update(self, serializer: BaseSerializer[WebhookEndpoint]) -> None:
        data = serializer.validated_data
        serializer.instance = webhooks.webhook_endpoint_update(
            endpoint=updated_instance(serializer),
            url=data.get("url"),
            event_types=data.get("event_types"),
            active=data.get("active"),
        )

    @action(detail=True, methods=["post"])
    def test(self, request: Request, pk: str) -> Response:
        """Queue a signed ``webhook.test`` delivery to this endpoint."""
        delivery = webhooks.webhook_endpoint_test(endpoint=self.get_object())
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)

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


@docs.notices
class NoticeViewSet(IssuerViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Membership-expiry notices: ``?state=failed`` lists the ones that could not be sent."""

    queryset = Notice.objects.none()
    serializer_class = NoticeSerializer

    def get_queryset(self) -> QuerySet[Notice]:
        queryset = super().get_queryset().select_related("seal")
        for field in ("state", "kind"):
            value = self.request.query_params.get(field)
            if value:
                queryset = queryset.filter(**{field: value})
        seal = self.request.query_params.get("seal")
        if seal:
            queryset = queryset.filter(seal__public_id=seal)
        return queryset
