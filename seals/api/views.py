"""Issuer, programmes, members and seals: thin adapters around the services."""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import QuerySet
from django.utils import timezone
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.filters import OrderingFilter
from rest_framework.parsers import BaseParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from config.db_router import replica_reads
from issuers import services
from issuers.api.base import IssuerAPIView, IssuerRequest, IssuerViewSet, updated_instance
from issuers.logos import LOGO_MAX_BYTES
from issuers.models import Issuer, Member, Programme
from seals import links, registry, selectors
from seals import services as seal_services
from seals.api import serializers as s
from seals.api import views_docs as docs
from seals.models import Seal, SealEvent


def actor_of(request: IssuerRequest) -> str:
    """Who did it, as recorded in seal histories: the API key, never a person."""
    return f"api-key:{request.auth.prefix}"


# --- issuer -------------------------------------------------------------------------------


@docs.issuer
class IssuerView(IssuerAPIView):
    serializer_class = s.IssuerSerializer
    http_method_names = ["get", "patch", "head", "options"]

    def get_object(self) -> Issuer:
        # request.auth, not request.issuer: OPTIONS calls this on a clone of the request that
        # carries the authentication but not the attributes set in initial().
        return self.request.auth.issuer

    def get(self, request: IssuerRequest) -> Response:
        return Response(self.get_serializer(self.get_object()).data)

    def patch(self, request: IssuerRequest) -> Response:
        serializer = self.get_serializer(self.get_object(), data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        issuer = registry.issuer_update(issuer=request.issuer, **serializer.validated_data)
        return Response(self.get_serializer(issuer).data)


class RawImageParser(BaseParser):
    """The body is the image itself (``Content-Type: image/png``); the format is decided from
    the bytes by the logo service, never from the header."""

    media_type = "image/*"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None):
        # One byte over the limit is enough to know it is too big.
        data = stream.read(LOGO_MAX_BYTES + 1) if stream is not None else b""
        content_type = media_type or self.media_type  # informative only: the bytes decide
        return {"file": SimpleUploadedFile("logo", data, content_type=content_type)}


class OctetStreamParser(RawImageParser):
    media_type = "application/octet-stream"


@docs.issuer_logo
class IssuerLogoView(IssuerAPIView):
    serializer_class = s.IssuerSerializer
    parser_classes = [RawImageParser, OctetStreamParser, MultiPartParser]
    http_method_names = ["put", "options"]
    # Bigger than the logo limit so an oversize logo gets the logo's own clear 413.
    max_body_bytes = LOGO_MAX_BYTES + 64 * 1024

    def get_object(self) -> Issuer:
        # OPTIONS describes PUT through get_object (DRF's SimpleMetadata); without it: a 500.
        return self.request.auth.issuer

    def put(self, request: IssuerRequest) -> Response:
        upload = request.data.get("file")
        if upload is None:
            raise serializers.ValidationError({"file": ["Send the image as the request body."]})
        # Too large, not an image, damaged: the service's LogoError says which answer.
        issuer = registry.issuer_logo_set(issuer=request.issuer, data=upload.read())
        return Response(self.get_serializer(issuer).data)


# --- programmes ---------------------------------------------------------------------------


@docs.programmes
class ProgrammeViewSet(
    IssuerViewSet,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
):
    queryset = Programme.objects.none()
    serializer_class = s.ProgrammeSerializer
    lookup_field = "slug"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    problem_statuses = {"create": {409}, "destroy": {409}}  # slug taken; in use

    def get_serializer_class(self) -> type[serializers.Serializer]:
        if self.action == "partial_update":
            return s.ProgrammeUpdateSerializer
        return s.ProgrammeSerializer

    def perform_create(self, serializer: BaseSerializer[Programme]) -> None:
        # A taken slug is the service's ProgrammeExistsError: a 409.
        data = dict(serializer.validated_data)
        serializer.instance = services.programme_create(issuer=self.request.issuer, **data)

    def perform_update(self, serializer: BaseSerializer[Programme]) -> None:
        serializer.instance = registry.programme_update(
            programme=updated_instance(serializer), **serializer.validated_data
        )

    def perform_destroy(self, instance: Programme) -> None:
        registry.programme_delete(programme=instance)  # in use: InUseError, a 409


# --- members ------------------------------------------------------------------------------


@docs.members
class MemberViewSet(
    IssuerViewSet,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
):
    queryset = Member.objects.none()
    serializer_class = s.MemberSerializer
    filter_backends = [OrderingFilter]
    ordering_fields = s.MEMBER_ORDERING
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    # member_exists; member_erased; in_use
    problem_statuses = {"create": {409}, "partial_update": {409}, "destroy": {409}}

    def list(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        # A list tolerates replica lag; the seal statuses in it come from the primary
        # (selectors.members_list). The caller's key and issuer were resolved on the primary.
        with replica_reads():
            return super().list(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Member]:
        queryset = super().get_queryset()
        if self.action != "list":
            return queryset.prefetch_related("seals__programme")
        filters = s.MemberFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return selectors.members_list(
            issuer=self.request.issuer, filters=filters.validated_data, now=timezone.now()
        )

    def get_serializer_class(self) -> type[serializers.Serializer]:
        if self.action == "partial_update":
            return s.MemberUpdateSerializer
        return s.MemberSerializer

    def perform_create(self, serializer: BaseSerializer[Member]) -> None:
        # A taken external_ref is the service's MemberExistsError: a 409 member_exists.
        data = dict(serializer.validated_data)
        data.pop("marketing_opt_out", None)
        serializer.instance = services.member_create(issuer=self.request.issuer, **data)

    def perform_update(self, serializer: BaseSerializer[Member]) -> None:
        # An erased member: the service's MemberErasedError, a 409 member_erased.
        serializer.instance = registry.member_update(
            member=updated_instance(serializer),
            actor=actor_of(self.request),
            **serializer.validated_data,
        )

    def perform_destroy(self, instance: Member) -> None:
        registry.member_delete(member=instance)  # has seals: InUseError, a 409


# --- seals --------------------------------------------------------------------------------


@docs.seals
class SealViewSet(
    IssuerViewSet,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
):
    queryset = Seal.objects.none()
    serializer_class = s.SealSerializer
    lookup_field = "public_id"
    lookup_url_kwarg = "seal_id"
    lookup_value_regex = r"[A-Za-z0-9_-]{22}"
    # seal_exists or member_erased on create; seal_state_conflict on the actions.
    problem_statuses = {
        action: {409} for action in ("create", "suspend", "reinstate", "revoke", "renew")
    }

    def get_queryset(self) -> QuerySet[Seal]:
        if self.action != "list":
            return super().get_queryset().select_related("member", "programme", "issuer")
        filters = s.SealFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        # The selector's own query (scoped to the issuer), not `pk__in` of it: a filter inside
        # a self-semi-join could not use the list indexes (seals.models.Seal.Meta.indexes).
        # Nor the issuer joined to every row: the list does not show it, and its logo is bytes.
        return selectors.seals_list(
            issuer=self.request.issuer, filters=filters.validated_data, now=timezone.now()
        )

    def create(self, request: IssuerRequest) -> Response:
        body = s.SealAwardSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        member = Member.objects.filter(pk=data["member"]).first()
        if member is None:
            raise serializers.ValidationError(
                {"member": [f"No member with id {data['member']} for this issuer."]}
            )
        programme = (
            Programme.objects.filter(slug=data["programme"]).first()
            if data.get("programme")
            else services.programme_default(request.issuer)
        )
        if programme is None:
            raise serializers.ValidationError(
                {"programme": [f"No programme with slug {data['programme']!r}."]}
            )
        # A live seal already (409 seal_exists), an erased member (409 member_erased), dates
        # the rules refuse (400 on expires_at): the services' errors, answered by the base.
        seal = registry.member_seal_award(
            member=member,
            programme=programme,
            actor=actor_of(request),
            valid_from=data.get("valid_from"),
            expires_at=data.get("expires_at"),
        )
        return Response(self.get_serializer(seal).data, status=status.HTTP_201_CREATED)

    def _act(
        self, request: IssuerRequest, service: Any, body_class: type, **extra: Any
    ) -> Response:
        # The lookup first: another issuer's seal is a 404 whatever the body says (DESIGN §1.5).
        seal = self.get_object()
        body = body_class(data=request.data)
        body.is_valid(raise_exception=True)
        seal = service(seal=seal, actor=actor_of(request), **body.validated_data, **extra)
        seal = self.get_queryset().get(pk=seal.pk)
        return Response(self.get_serializer(seal).data)

    @action(detail=True, methods=["post"])
    def suspend(self, request: IssuerRequest, seal_id: str) -> Response:
        return self._act(request, seal_services.seal_suspend, s.SealReasonSerializer)

    @action(detail=True, methods=["post"])
    def reinstate(self, request: IssuerRequest, seal_id: str) -> Response:
        return self._act(request, seal_services.seal_reinstate, s.SealReasonSerializer)

    @action(detail=True, methods=["post"])
    def revoke(self, request: IssuerRequest, seal_id: str) -> Response:
        return self._act(request, seal_services.seal_revoke, s.SealReasonSerializer)

    @action(detail=True, methods=["post"])
    def renew(self, request: IssuerRequest, seal_id: str) -> Response:
        return self._act(request, seal_services.seal_renew, s.SealRenewSerializer)

    @action(detail=True, methods=["get"], pagination_class=None)
    def events(self, request: IssuerRequest, seal_id: str) -> Response:
        seal = self.get_object()
        events = SealEvent.objects.filter(seal=seal).select_related("seal")
        return Response(s.SealEventSerializer(events.order_by("seq"), many=True).data)

    @action(detail=True, methods=["get"])
    def embed(self, request: IssuerRequest, seal_id: str) -> Response:
        seal = self.get_object()
        size = request.query_params.get("size", "medium")
        if size not in ("small", "medium", "large"):
            raise serializers.ValidationError({"size": ["Use small, medium or large."]})
        return Response(
            {
                "seal": seal.public_id,
                "size": size,
                "html": links.embed_snippet(seal, size=size),
                "image_url": links.image_url(seal),
                "verify_url": links.verify_url(seal),
            }
        )
