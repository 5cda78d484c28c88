"""Data-subject requests and the member's rights: export, restriction, objection, erasure.

Thin adapters around privacy.services; rectification is ``PATCH /api/v1/members/<id>``.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from issuers.api.base import IssuerAPIView, IssuerViewSet
from issuers.models import DataRequest, Member
from privacy import services as privacy
from seals.api.serializers import ObjectIdField, StrictModelSerializer, StrictSerializer


def _actor(request: Request) -> str:
    return f"api-key:{request.auth.prefix}"


# --- serializers ------------------------------------------------------------------------------


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
        issuer = getattr(request, "issuer", None)
        if issuer is not None:
            # Another issuer's member is "does not exist", like every other lookup.
            self.fields["member"].queryset = Member.objects.filter(issuer=issuer)

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


class MemberFlagsSerializer(serializers.ModelSerializer):
    class Meta:
        model = Member
        fields = ["id", "restricted", "marketing_opt_out", "erased_at"]
        read_only_fields = fields


# --- examples ---------------------------------------------------------------------------------

DATA_REQUEST_EXAMPLE = {
    "id": 12,
    "kind": "erasure",
    "member": 42,
    "requester_name": "Ada Contact",
    "requester_email": "ada@crumb.example",
    "received_at": "2026-03-01T08:00:00Z",
    "due_at": "2026-04-01T08:00:00Z",
    "state": "received",
    "outcome": "",
    "completed_at": None,
    "overdue": False,
    "audit": [
        {
            "at": "2026-03-01T08:00:00+00:00",
            "actor": "api-key:5f2c9a1b7d3e",
            "action": "received",
            "state": "received",
        }
    ],
    "created_at": "2026-03-01T08:00:00Z",
    "updated_at": "2026-03-01T08:00:00Z",
}
DATA_REQUEST_DONE_EXAMPLE = {
    **DATA_REQUEST_EXAMPLE,
    "state": "completed",
    "outcome": "Personal data erased on 2026-03-04; the membership number is kept.",
    "completed_at": "2026-03-04T10:15:00Z",
    "audit": [
        *DATA_REQUEST_EXAMPLE["audit"],
        {
            "at": "2026-03-04T10:14:58+00:00",
            "actor": "api-key:5f2c9a1b7d3e",
            "action": "erased",
            "corporate": False,
        },
        {
            "at": "2026-03-04T10:15:00+00:00",
            "actor": "api-key:5f2c9a1b7d3e",
            "action": "transition",
            "from": "received",
            "to": "completed",
        },
    ],
    "updated_at": "2026-03-04T10:15:00Z",
}
EXPORT_EXAMPLE = {
    "format": privacy.EXPORT_FORMAT,
    "generated_at": "2026-03-02T09:00:00Z",
    "issuer": {"slug": "guild-of-bakers", "name": "Guild of Bakers"},
    "member": {
        "id": 42,
        "external_ref": "GB-0042",
        "legal_name": "Crumb & Co Ltd",
        "display_name": "Crumb & Co",
        "domains": ["crumb.example"],
        "country": "GB",
        "contact": {"name": "Ada Baker", "email": "ada@crumb.example", "phone": ""},
        "restricted": False,
        "marketing_opt_out": False,
        "erased_at": None,
        "created_at": "2026-01-05T09:30:00Z",
        "updated_at": "2026-01-05T09:30:00Z",
    },
    "seals": [
        {
            "id": "q3JxW8yWcV9kq0m3Yb1fYg",
            "programme": {"slug": "member", "name": "Member"},
            "status": "active",
            "stored_status": "active",
            "status_reason": "",
            "status_changed_at": "2026-01-05T09:30:00Z",
            "valid_from": "2026-01-05T09:30:00Z",
            "expires_at": "2027-01-05T09:30:00Z",
            "created_at": "2026-01-05T09:30:00Z",
            "events": [
                {
                    "seq": 3,
                    "kind": "issued",
                    "actor": "api-key:5f2c9a1b7d3e",
                    "occurred_at": "2026-01-05T09:30:00Z",
                    "data": {"status": "active", "version": 1},
                    "private_data": None,
                }
            ],
        }
    ],
    "notices": [],
    "statistics": {
        "daily": [
            {
                "seal": "q3JxW8yWcV9kq0m3Yb1fYg",
                "day": "2026-03-01",
                "impressions": 412,
                "verification_views": 37,
                "misuse_hits": 0,
            }
        ],
        "monthly": [],
    },
    "data_requests": [
        {
            "id": 12,
            "kind": "access",
            "state": "in_progress",
            "requester_name": "Ada Baker",
            "requester_email": "ada@crumb.example",
            "received_at": "2026-03-01T08:00:00Z",
            "due_at": "2026-04-01T08:00:00Z",
            "completed_at": None,
            "outcome": "",
            "audit": DATA_REQUEST_EXAMPLE["audit"],
        }
    ],
}
FLAGS_EXAMPLE = {"id": 42, "restricted": False, "marketing_opt_out": False, "erased_at": None}


# --- data requests ----------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="Data-subject requests",
        description="Newest first. `?overdue=true` lists open requests past their due date.",
        tags=["privacy"],
        parameters=[DataRequestFilterSerializer],
        examples=[OpenApiExample("Requests", value=DATA_REQUEST_EXAMPLE, response_only=True)],
    ),
    retrieve=extend_schema(
        summary="One data-subject request",
        tags=["privacy"],
        examples=[OpenApiExample("Request", value=DATA_REQUEST_EXAMPLE, response_only=True)],
    ),
    create=extend_schema(
        summary="Record a data-subject request",
        description="The due date is one calendar month after `received_at` (default: now).",
        tags=["privacy"],
        examples=[
            OpenApiExample(
                "Erasure request",
                value={
                    "kind": "erasure",
                    "member": 42,
                    "requester_name": "Ada Contact",
                    "requester_email": "ada@crumb.example",
                },
                request_only=True,
            ),
            OpenApiExample("Recorded", value=DATA_REQUEST_EXAMPLE, response_only=True),
        ],
    ),
)
class DataRequestViewSet(
    IssuerViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin
):
    queryset = DataRequest.objects.all()
    serializer_class = DataRequestSerializer
    problem_statuses = {"transition": {409}}

    def get_queryset(self) -> QuerySet[DataRequest]:
        queryset = super().get_queryset()
        if self.action != "list":
            return queryset
        filters = DataRequestFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        wanted = filters.validated_data
        for field in ("state", "kind"):
            if field in wanted:
                queryset = queryset.filter(**{field: wanted[field]})
        if "member" in wanted:
            queryset = queryset.filter(member_id=wanted["member"])
        if wanted.get("overdue") is not None:
            overdue = privacy.data_requests_overdue(now=timezone.now(), issuer=self.request.issuer)
            ids = overdue.values("pk")
            queryset = (
                queryset.filter(pk__in=ids) if wanted["overdue"] else queryset.exclude(pk__in=ids)
            )
        return queryset

    def perform_create(self, serializer: DataRequestSerializer) -> None:
        serializer.instance = privacy.data_request_create(
            issuer=self.request.issuer, actor=_actor(self.request), **serializer.validated_data
        )

    @extend_schema(
        summary="Move a request on (in_progress, completed, rejected)",
        description="Closed requests are final. A rejection needs an `outcome` with the reasons.",
        request=TransitionSerializer,
        responses=DataRequestSerializer,
        tags=["privacy"],
        examples=[
            OpenApiExample(
                "Complete",
                value={
                    "state": "completed",
                    "outcome": "Personal data erased on 2026-03-04; the membership number is kept.",
                },
                request_only=True,
            ),
            OpenApiExample(
                "Reject",
                value={
                    "state": "rejected",
                    "outcome": "The requester could not be identified as the member's contact.",
                },
                request_only=True,
            ),
            OpenApiExample("Completed", value=DATA_REQUEST_DONE_EXAMPLE, response_only=True),
        ],
    )
    @action(detail=True, methods=["post"])
    def transition(self, request: Request, pk: str) -> Response:
        data_request = self.get_object()
        body = TransitionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        # Closed already: DataRequestStateError, a 409; a rejection without reasons: a 400.
        data_request = privacy.data_request_transition(
            data_request=data_request, actor=_actor(request), **body.validated_data
        )
        return Response(DataRequestSerializer(data_request, context={"request": request}).data)


# --- member rights ----------------------------------------------------------------------------


class _MemberAction(IssuerAPIView):
    queryset = Member.objects.all()

    def member(self, pk: str) -> Member:
        return get_object_or_404(self.get_queryset(), pk=pk)

    def linked_request(self, pk: int | None) -> DataRequest | None:
        if pk is None:
            return None
        found = DataRequest.objects.filter(issuer=self.request.issuer, pk=pk).first()
        if found is None:
            raise serializers.ValidationError({"data_request": ["No such data request."]})
        return found


class MemberExportView(_MemberAction):
    @extend_schema(
        summary="Everything held about a member (access, portability)",
        description="One JSON document: profile with contact, seals with their events, "
        "notices, daily and monthly statistics, data requests. See docs/privacy.md.",
        responses={200: dict},
        tags=["privacy"],
        examples=[OpenApiExample("Export", value=EXPORT_EXAMPLE, response_only=True)],
    )
    def get(self, request: Request, pk: str) -> Response:
        member = self.member(pk)
        response = Response(privacy.member_export(member))
        response["Content-Disposition"] = f'attachment; filename="member-{member.pk}.json"'
        response["Cache-Control"] = "no-store"
        return response


class MemberEraseView(_MemberAction):
    serializer_class = EraseSerializer
    problem_statuses = {409}

    @extend_schema(
        summary="Erase a member's personal data (and corporate data on request)",
        description="Final: erasing an erased member is 409 (`member_erased`). See "
        "docs/privacy.md for what is erased and what is kept.",
        request=EraseSerializer,
        responses=ErasureReportSerializer,
        tags=["privacy"],
        examples=[
            OpenApiExample(
                "Personal data, answering a request",
                value={"corporate": False, "data_request": 12},
                request_only=True,
            ),
            OpenApiExample(
                "Erased",
                value={
                    "member": 42,
                    "corporate": False,
                    "events_erased": 4,
                    "seals_revoked": 0,
                    "data_requests_blanked": 1,
                },
                response_only=True,
            ),
        ],
    )
    def post(self, request: Request, pk: str) -> Response:
        member = self.member(pk)
        body = EraseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        # Erased already: the service's MemberErasedError, a 409 member_erased.
        report = privacy.member_erase(
            member=member,
            corporate=body.validated_data["corporate"],
            actor=_actor(request),
            data_request=self.linked_request(body.validated_data.get("data_request")),
        )
        return Response(ErasureReportSerializer(report).data, status=status.HTTP_200_OK)


class MemberRestrictView(_MemberAction):
    serializer_class = RestrictSerializer

    @extend_schema(
        summary="Restrict (or lift the restriction of) processing of a member's data",
        description="A restricted member is left out of statistics and non-essential mail; "
        "its expiry notices go to the issuer instead of the stored contact.",
        request=RestrictSerializer,
        responses=MemberFlagsSerializer,
        tags=["privacy"],
        examples=[
            OpenApiExample(
                "Restrict", value={"restricted": True, "data_request": 12}, request_only=True
            ),
            OpenApiExample("Lift the restriction", value={"restricted": False}, request_only=True),
            OpenApiExample(
                "Restricted", value={**FLAGS_EXAMPLE, "restricted": True}, response_only=True
            ),
        ],
    )
    def post(self, request: Request, pk: str) -> Response:
        member = self.member(pk)
        body = RestrictSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        member = privacy.member_restrict(
            member=member,
            restricted=body.validated_data["restricted"],
            actor=_actor(request),
            data_request=self.linked_request(body.validated_data.get("data_request")),
        )
        return Response(MemberFlagsSerializer(member).data)


class MemberObjectView(_MemberAction):
    serializer_class = _LinkedRequest

    @extend_schema(
        summary="Record an objection to direct marketing (opts the member out)",
        request=_LinkedRequest,
        responses=MemberFlagsSerializer,
        tags=["privacy"],
        examples=[
            OpenApiExample("Objection", value={"data_request": 12}, request_only=True),
            OpenApiExample(
                "Opted out", value={**FLAGS_EXAMPLE, "marketing_opt_out": True}, response_only=True
            ),
        ],
    )
    def post(self, request: Request, pk: str) -> Response:
        member = self.member(pk)
        body = _LinkedRequest(data=request.data)
        body.is_valid(raise_exception=True)
        member = privacy.member_object(
            member=member,
            actor=_actor(request),
            data_request=self.linked_request(body.validated_data.get("data_request")),
        )
        return Response(MemberFlagsSerializer(member).data)
