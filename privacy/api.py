"""Data-subject requests and the member's rights: export, restriction, objection, erasure.

Thin adapters around privacy.services; rectification is ``PATCH /api/v1/members/<id>``.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from issuers.api.base import IssuerAPIView, IssuerRequest, IssuerViewSet
from issuers.models import DataRequest, Member
from privacy import api_docs as docs
from privacy import services as privacy
from privacy.serializers import (
    DataRequestFilterSerializer,
    DataRequestSerializer,
    EraseSerializer,
    ErasureReportSerializer,
    MemberFlagsSerializer,
    RestrictSerializer,
    TransitionSerializer,
    _LinkedRequest,
)


def _actor(request: IssuerRequest) -> str:
    return f"api-key:{request.auth.prefix}"


# --- data requests ----------------------------------------------------------------------------


@docs.data_requests
class DataRequestViewSet(
    IssuerViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin
):
    queryset = DataRequest.objects.none()
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

    def perform_create(self, serializer: BaseSerializer[DataRequest]) -> None:
        serializer.instance = privacy.data_request_create(
            issuer=self.request.issuer, actor=_actor(self.request), **serializer.validated_data
        )

    @action(detail=True, methods=["post"])
    def transition(self, request: IssuerRequest, pk: str) -> Response:
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
    queryset = Member.objects.none()

    def member(self, pk: str) -> Member:
        return get_object_or_404(self.get_queryset(), pk=pk)

    def linked_request(self, pk: int | None) -> DataRequest | None:
        if pk is None:
            return None
        found = DataRequest.objects.filter(pk=pk).first()
        if found is None:
            raise serializers.ValidationError({"data_request": ["No such data request."]})
        return found


@docs.member_export
class MemberExportView(_MemberAction):
    def get(self, request: IssuerRequest, pk: str) -> Response:
        member = self.member(pk)
        response = Response(privacy.member_export(member))
        response["Content-Disposition"] = f'attachment; filename="member-{member.pk}.json"'
        response["Cache-Control"] = "no-store"
        return response


@docs.member_erase
class MemberEraseView(_MemberAction):
    serializer_class = EraseSerializer
    problem_statuses = {409}

    def post(self, request: IssuerRequest, pk: str) -> Response:
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


@docs.member_restrict
class MemberRestrictView(_MemberAction):
    serializer_class = RestrictSerializer

    def post(self, request: IssuerRequest, pk: str) -> Response:
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


@docs.member_object
class MemberObjectView(_MemberAction):
    serializer_class = _LinkedRequest

    def post(self, request: IssuerRequest, pk: str) -> Response:
        member = self.member(pk)
        body = _LinkedRequest(data=request.data)
        body.is_valid(raise_exception=True)
        member = privacy.member_object(
            member=member,
            actor=_actor(request),
            data_request=self.linked_request(body.validated_data.get("data_request")),
        )
        return Response(MemberFlagsSerializer(member).data)
