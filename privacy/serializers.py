"""Shapes of the data-subject request and member-rights endpoints (privacy.api)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from rest_framework import serializers
from rest_framework.relations import RelatedField

from issuers.models import DataRequest, Member
from privacy import services as privacy
from seals.api.serializers import ObjectIdField, StrictModelSerializer, StrictSerializer


class DataRequestSerializer(StrictModelSerializer):
    member = serializers.PrimaryKeyRelatedField(
        queryset=Member.objects.none(), required=False, allow_null=True
    )
    requester_email = serializers.EmailField(required=False, allow_blank=True, max_length=254)
    requester_name = serializers.CharField(required=False, allow_blank=True, max_length=200)
    overdue = serializers.SerializerMethodField(
        help_text="Open and past its due date (computed at the time of the request)."
    )

    class Meta:
        model = DataRequest
        fields = [
            "id",
            "kind",
            "member",
            "requester_name",
            "requester_email",
            "received_at",
            "due_at",
            "state",
            "outcome",
            "completed_at",
            "overdue",
            "audit",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "id",
            "due_at",
            "state",
            "outcome",
            "completed_at",
            "overdue",
            "audit",
            "created_at",
            "updated_at",
        ]
        extra_kwargs = {"received_at": {"required": False}}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        member = self.fields["member"]
        if getattr(request, "issuer", None) is not None and isinstance(member, RelatedField):
            # Read inside the request's scope: another issuer's member "does not exist", like
            # every other lookup. (The schema generator has no request, nor a scope.)
            member.queryset = Member.objects.all()

    def get_overdue(self, obj: DataRequest) -> bool:
        return privacy.data_request_is_overdue(obj, timezone.now())


class DataRequestFilterSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=DataRequest.State.choices, required=False)
    kind = serializers.ChoiceField(choices=DataRequest.Kind.choices, required=False)
    member = ObjectIdField(required=False)
    overdue = serializers.BooleanField(required=False, allow_null=True, default=None)


class TransitionSerializer(StrictSerializer):
    multiline_fields = ("outcome", "note")
    state = serializers.ChoiceField(
        choices=[
            DataRequest.State.IN_PROGRESS,
            DataRequest.State.COMPLETED,
            DataRequest.State.REJECTED,
        ]
    )
    outcome = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    note = serializers.CharField(required=False, allow_blank=True, max_length=1000)


class _LinkedRequest(StrictSerializer):
    data_request = ObjectIdField(
        required=False, allow_null=True, help_text="The data request this answers (audit)."
    )


class EraseSerializer(_LinkedRequest):
    corporate = serializers.BooleanField(
        default=False,
        help_text="Also erase corporate data (names, domains, country) and revoke the seals "
        "with reason 'erased'.",
    )


class RestrictSerializer(_LinkedRequest):
    restricted = serializers.BooleanField(default=True)


class ErasureReportSerializer(serializers.Serializer):
    member = serializers.IntegerField(source="member_id")
    corporate = serializers.BooleanField()
    events_erased = serializers.IntegerField()
    seals_revoked = serializers.IntegerField()
    data_requests_blanked = serializers.IntegerField()
    misuse_reports_deleted = serializers.IntegerField()


class MemberFlagsSerializer(serializers.ModelSerializer):
    class Meta:
        model = Member
        fields = ["id", "restricted", "marketing_opt_out", "erased_at"]
        read_only_fields = fields
