"""Shapes of the webhook and notice endpoints (effects.api)."""

from __future__ import annotations

from rest_framework import serializers

from issuers.events import EVENT_TYPES
from issuers.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from seals.api.serializers import StrictModelSerializer
from seals.models import Notice


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
