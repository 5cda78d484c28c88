"""Issuer, programmes, members and seals: thin adapters around the services."""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiRequest,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.filters import OrderingFilter
from rest_framework.parsers import BaseParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from issuers import services
from issuers.api.base import IssuerAPIView, IssuerViewSet
from issuers.logos import LOGO_MAX_BYTES
from issuers.models import Issuer, Member, Programme
from seals import links, registry, selectors
from seals import services as seal_services
from seals.api import serializers as s
from seals.models import Seal, SealEvent, SealStatus


def actor_of(request: Request) -> str:
    """Who did it, as recorded in seal histories: the API key, never a person."""
    return f"api-key:{request.auth.prefix}"


# --- issuer -------------------------------------------------------------------------------

ISSUER_EXAMPLE = {
    "slug": "guild-of-bakers",
    "name": "Guild of Bakers",
    "kind": "association",
    "website": "https://bakers.example",
    "description": "The national bakers' trade association.",
    "public_email": "office@bakers.example",
    "status": "active",
    "logo_version": 1,
    "has_logo": True,
    "created_at": "2026-01-05T09:30:00Z",
    "updated_at": "2026-02-01T10:00:00Z",
}


@extend_schema_view(
    get=extend_schema(
        summary="The calling issuer's profile",
        tags=["issuer"],
        examples=[OpenApiExample("Issuer", value=ISSUER_EXAMPLE, response_only=True)],
    ),
    patch=extend_schema(
        summary="Update the issuer's profile",
        tags=["issuer"],
        examples=[
            OpenApiExample(
                "Change the website",
                value={"website": "https://www.bakers.example"},
                request_only=True,
            ),
            OpenApiExample("Issuer", value=ISSUER_EXAMPLE, response_only=True),
        ],
    ),
)
class IssuerView(IssuerAPIView):
    serializer_class = s.IssuerSerializer
    http_method_names = ["get", "patch", "head", "options"]

    def get_object(self) -> Issuer:
        # request.auth, not request.issuer: OPTIONS calls this on a clone of the request that
        # carries the authentication but not the attributes set in initial().
        return self.request.auth.issuer

    def get(self, request: Request) -> Response:
        return Response(self.get_serializer(self.get_object()).data)

    def patch(self, request: Request) -> Response:
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
        return {"file": SimpleUploadedFile("logo", data, content_type=media_type)}


class OctetStreamParser(RawImageParser):
    media_type = "application/octet-stream"


@extend_schema(
    summary="Upload the issuer's logo",
    description=(
        "The body is the image itself (`Content-Type: image/png`, `image/jpeg` or `image/webp`)"
        ", or a multipart form with a `file` field. At most 2 MB and 4096x4096 px. The image is"
        " re-encoded to PNG without metadata and fitted into 256x256 px for the seals. SVG, GIF"
        " and any other format are refused (415)."
    ),
    tags=["issuer"],
    request={
        "image/png": OpenApiRequest(OpenApiTypes.BINARY),
        "image/jpeg": OpenApiRequest(OpenApiTypes.BINARY),
        "image/webp": OpenApiRequest(OpenApiTypes.BINARY),
        "multipart/form-data": {
            "type": "object",
            "properties": {"file": {"type": "string", "format": "binary"}},
        },
    },
    responses={200: s.IssuerSerializer},
    examples=[OpenApiExample("Issuer", value=ISSUER_EXAMPLE, response_only=True)],
)
class IssuerLogoView(IssuerAPIView):
    serializer_class = s.IssuerSerializer
    parser_classes = [RawImageParser, OctetStreamParser, MultiPartParser]
    http_method_names = ["put", "options"]
    # Bigger than the logo limit so an oversize logo gets the logo's own clear 413.
    max_body_bytes = LOGO_MAX_BYTES + 64 * 1024

    def get_object(self) -> Issuer:
        # OPTIONS describes PUT through get_object (DRF's SimpleMetadata); without it: a 500.
        return self.request.auth.issuer

    def put(self, request: Request) -> Response:
        upload = request.data.get("file")
        if upload is None:
            raise serializers.ValidationError({"file": ["Send the image as the request body."]})
        # Too large, not an image, damaged: the service's LogoError says which answer.
        issuer = registry.issuer_logo_set(issuer=request.issuer, data=upload.read())
        return Response(self.get_serializer(issuer).data)


# --- programmes ---------------------------------------------------------------------------

PROGRAMME_EXAMPLE = {
    "slug": "master-baker",
    "name": "Master Baker",
    "description": "Bakeries run by a certified master baker.",
    "criteria_url": "https://bakers.example/master-baker",
    "validity_days": 365,
    "notice_days": [30, 7, 1],
    "theme": "light",
    "wording": "Certified master baker",
    "accent_colour": "#8a4b08",
    "is_default": False,
    "created_at": "2026-01-05T09:30:00Z",
    "updated_at": "2026-01-05T09:30:00Z",
}


@extend_schema_view(
    list=extend_schema(
        summary="List programmes",
        tags=["programmes"],
        examples=[OpenApiExample("Programmes", value=PROGRAMME_EXAMPLE, response_only=True)],
    ),
    retrieve=extend_schema(
        summary="Get a programme",
        tags=["programmes"],
        examples=[OpenApiExample("Programme", value=PROGRAMME_EXAMPLE, response_only=True)],
    ),
    create=extend_schema(
        summary="Create a programme",
        tags=["programmes"],
        examples=[
            OpenApiExample(
                "Programme",
                value={
                    k: v
                    for k, v in PROGRAMME_EXAMPLE.items()
                    if k not in ("is_default", "created_at", "updated_at")
                },
                request_only=True,
            ),
            OpenApiExample("Created", value=PROGRAMME_EXAMPLE, response_only=True),
        ],
    ),
    partial_update=extend_schema(
        summary="Update a programme",
        tags=["programmes"],
        examples=[
            OpenApiExample("Longer validity", value={"validity_days": 730}, request_only=True),
            OpenApiExample("Programme", value=PROGRAMME_EXAMPLE, response_only=True),
        ],
    ),
    destroy=extend_schema(
        summary="Delete a programme that has no seals",
        description="The default programme and programmes with seals cannot be deleted (409).",
        tags=["programmes"],
    ),
)
class ProgrammeViewSet(
    IssuerViewSet,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
):
    queryset = Programme.objects.all()
    serializer_class = s.ProgrammeSerializer
    lookup_field = "slug"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    problem_statuses = {"create": {409}, "destroy": {409}}  # slug taken; in use

    def get_serializer_class(self) -> type[serializers.Serializer]:
        if self.action == "partial_update":
            return s.ProgrammeUpdateSerializer
        return s.ProgrammeSerializer

    def perform_create(self, serializer: s.ProgrammeSerializer) -> None:
        # A taken slug is the service's ProgrammeExistsError: a 409.
        data = dict(serializer.validated_data)
        serializer.instance = services.programme_create(issuer=self.request.issuer, **data)

    def perform_update(self, serializer: s.ProgrammeSerializer) -> None:
        serializer.instance = registry.programme_update(
            programme=serializer.instance, **serializer.validated_data
        )

    def perform_destroy(self, instance: Programme) -> None:
        registry.programme_delete(programme=instance)  # in use: InUseError, a 409


# --- members ------------------------------------------------------------------------------

MEMBER_EXAMPLE = {
    "id": 42,
    "external_ref": "GB-0042",
    "legal_name": "Crumb & Co Ltd",
    "display_name": "Crumb & Co",
    "domains": ["crumb.example", "xn--bckerei-5wa.example"],
    "country": "GB",
    "contact_name": "Ada Baker",
    "contact_email": "ada@crumb.example",
    "contact_phone": "+44 20 7946 0000",
    "marketing_opt_out": False,
    "restricted": False,
    "erased_at": None,
    "seals": [
        {
            "id": "q3JxW8yWcV9kq0m3Yb1fYg",
            "programme": "member",
            "status": "active",
            "expires_at": "2027-01-05T09:30:00Z",
        }
    ],
    "created_at": "2026-01-05T09:30:00Z",
    "updated_at": "2026-01-05T09:30:00Z",
}
MEMBER_INPUT = {
    k: MEMBER_EXAMPLE[k]
    for k in ("external_ref", "legal_name", "display_name", "domains", "country", "contact_email")
}
MEMBER_ORDERING = ["display_name", "legal_name", "external_ref", "created_at", "updated_at"]


@extend_schema_view(
    list=extend_schema(
        summary="List members",
        tags=["members"],
        examples=[OpenApiExample("Members", value=MEMBER_EXAMPLE, response_only=True)],
        parameters=[
            s.MemberFilterSerializer,
            OpenApiParameter(
                "ordering",
                OpenApiTypes.STR,
                description="One of " + ", ".join(MEMBER_ORDERING) + "; prefix - to reverse.",
            ),
        ],
    ),
    retrieve=extend_schema(
        summary="Get a member",
        tags=["members"],
        examples=[OpenApiExample("Member", value=MEMBER_EXAMPLE, response_only=True)],
    ),
    create=extend_schema(
        summary="Create a member",
        description="409 when a member with this external_ref exists already.",
        tags=["members"],
        examples=[
            OpenApiExample("Member", value=MEMBER_INPUT, request_only=True),
            OpenApiExample("Created", value=MEMBER_EXAMPLE, response_only=True),
        ],
    ),
    partial_update=extend_schema(
        summary="Update a member",
        description="Changes to names, domains or country are recorded in the history of the "
        "member's seals (`details_changed`) and shown by public seals at once.",
        tags=["members"],
        examples=[
            OpenApiExample(
                "Add a domain",
                value={"domains": ["crumb.example", "shop.crumb.example"]},
                request_only=True,
            ),
            OpenApiExample("Member", value=MEMBER_EXAMPLE, response_only=True),
        ],
    ),
    destroy=extend_schema(
        summary="Delete a member without seals",
        description="Members with seals cannot be deleted (409): revoke the seals, or file an "
        "erasure request to erase the member's personal data.",
        tags=["members"],
    ),
)
class MemberViewSet(
    IssuerViewSet,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
):
    queryset = Member.objects.all()
    serializer_class = s.MemberSerializer
    filter_backends = [OrderingFilter]
    ordering_fields = MEMBER_ORDERING
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    # member_exists; member_erased; in_use
    problem_statuses = {"create": {409}, "partial_update": {409}, "destroy": {409}}

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

    def perform_create(self, serializer: s.MemberSerializer) -> None:
        # A taken external_ref is the service's MemberExistsError: a 409 member_exists.
        data = dict(serializer.validated_data)
        data.pop("marketing_opt_out", None)
        serializer.instance = services.member_create(issuer=self.request.issuer, **data)

    def perform_update(self, serializer: s.MemberSerializer) -> None:
        # An erased member: the service's MemberErasedError, a 409 member_erased.
        serializer.instance = registry.member_update(
            member=serializer.instance,
            actor=actor_of(self.request),
            **serializer.validated_data,
        )

    def perform_destroy(self, instance: Member) -> None:
        registry.member_delete(member=instance)  # has seals: InUseError, a 409


# --- seals --------------------------------------------------------------------------------

SEAL_EXAMPLE = {
    "id": "q3JxW8yWcV9kq0m3Yb1fYg",
    "member": 42,
    "member_external_ref": "GB-0042",
    "programme": "member",
    "status": "active",
    "stored_status": "active",
    "status_reason": "",
    "status_changed_at": "2026-01-05T09:30:00Z",
    "valid_from": "2026-01-05T09:30:00Z",
    "expires_at": "2027-01-05T09:30:00Z",
    "version": 1,
    "links": {
        "image": "https://seals.example/s/q3JxW8yWcV9kq0m3Yb1fYg.svg",
        "verify": "https://seals.example/verify/q3JxW8yWcV9kq0m3Yb1fYg",
        "credential": "https://seals.example/s/q3JxW8yWcV9kq0m3Yb1fYg/credential.jwt",
        "embed": "https://seals.example/embed/q3JxW8yWcV9kq0m3Yb1fYg",
    },
    "created_at": "2026-01-05T09:30:00Z",
    "updated_at": "2026-01-05T09:30:00Z",
}
EVENT_EXAMPLE = {
    "seq": 17,
    "seal": "q3JxW8yWcV9kq0m3Yb1fYg",
    "kind": "suspended",
    "actor": "api-key:5f2c9a1b7d3e",
    "occurred_at": "2026-03-01T08:00:00Z",
    "data": {"status": "suspended", "version": 2, "private_digest": "9b1d…"},
    "prev_hash": "4be1…",
    "hash": "a7c0…",
}


class SealFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=SealStatus.choices, required=False, help_text="Effective status now."
    )
    programme = serializers.SlugField(required=False)
    member = s.ObjectIdField(required=False, help_text="Member id.")
    expiring_before = serializers.DateTimeField(required=False)


def _action_schema(name: str, body: type[serializers.Serializer], example: dict) -> Any:
    return extend_schema(
        summary=f"{name.capitalize()} a seal",
        tags=["seals"],
        request=body,
        responses={200: s.SealSerializer},
        examples=[
            OpenApiExample(name, value=example, request_only=True),
            OpenApiExample("Seal", value=SEAL_EXAMPLE, response_only=True),
        ],
    )


@extend_schema_view(
    list=extend_schema(
        summary="List seals",
        tags=["seals"],
        parameters=[SealFilterSerializer],
        examples=[OpenApiExample("Seals", value=SEAL_EXAMPLE, response_only=True)],
    ),
    retrieve=extend_schema(
        summary="Get a seal",
        tags=["seals"],
        examples=[OpenApiExample("Seal", value=SEAL_EXAMPLE, response_only=True)],
    ),
    create=extend_schema(
        summary="Award a seal to a member",
        description="409 when the member already holds a live seal in the programme.",
        tags=["seals"],
        request=s.SealAwardSerializer,
        responses={201: s.SealSerializer},
        examples=[
            OpenApiExample(
                "Award",
                value={"member": 42, "programme": "member", "expires_at": "2027-01-05T09:30:00Z"},
                request_only=True,
            ),
            OpenApiExample("Seal", value=SEAL_EXAMPLE, response_only=True),
        ],
    ),
)
class SealViewSet(
    IssuerViewSet,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
):
    queryset = Seal.objects.select_related("member", "programme", "issuer")
    serializer_class = s.SealSerializer
    lookup_field = "public_id"
    lookup_url_kwarg = "seal_id"
    lookup_value_regex = r"[A-Za-z0-9_-]{22}"
    # seal_exists or member_erased on create; seal_state_conflict on the actions.
    problem_statuses = {
        action: {409} for action in ("create", "suspend", "reinstate", "revoke", "renew")
    }

    def get_queryset(self) -> QuerySet[Seal]:
        queryset = super().get_queryset()
        if self.action != "list":
            return queryset
        filters = SealFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return queryset.filter(
            pk__in=selectors.seals_list(
                issuer=self.request.issuer, filters=filters.validated_data, now=timezone.now()
            ).values("pk")
        )

    def create(self, request: Request) -> Response:
        body = s.SealAwardSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        member = Member.objects.filter(issuer=request.issuer, pk=data["member"]).first()
        if member is None:
            raise serializers.ValidationError(
                {"member": [f"No member with id {data['member']} for this issuer."]}
            )
        programme = (
            Programme.objects.filter(issuer=request.issuer, slug=data["programme"]).first()
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

    def _act(self, request: Request, service: Any, body_class: type, **extra: Any) -> Response:
        # The lookup first: another issuer's seal is a 404 whatever the body says (DESIGN §1.5).
        seal = self.get_object()
        body = body_class(data=request.data)
        body.is_valid(raise_exception=True)
        seal = service(seal=seal, actor=actor_of(request), **body.validated_data, **extra)
        seal = self.get_queryset().get(pk=seal.pk)
        return Response(self.get_serializer(seal).data)

    @_action_schema("suspend", s.SealReasonSerializer, {"reason": "Membership fees unpaid."})
    @action(detail=True, methods=["post"])
    def suspend(self, request: Request, seal_id: str) -> Response:
        return self._act(request, seal_services.seal_suspend, s.SealReasonSerializer)

    @_action_schema("reinstate", s.SealReasonSerializer, {"reason": "Fees paid."})
    @action(detail=True, methods=["post"])
    def reinstate(self, request: Request, seal_id: str) -> Response:
        return self._act(request, seal_services.seal_reinstate, s.SealReasonSerializer)

    @_action_schema("revoke", s.SealReasonSerializer, {"reason": "Left the association."})
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, seal_id: str) -> Response:
        return self._act(request, seal_services.seal_revoke, s.SealReasonSerializer)

    @_action_schema(
        "renew",
        s.SealRenewSerializer,
        {"expires_at": "2028-01-05T09:30:00Z", "reason": "Annual renewal."},
    )
    @action(detail=True, methods=["post"])
    def renew(self, request: Request, seal_id: str) -> Response:
        return self._act(request, seal_services.seal_renew, s.SealRenewSerializer)

    @extend_schema(
        summary="A seal's history, with the chain hashes",
        description="Events in chain order. `hash = sha256(prev_hash ‖ JCS(event))`; reasons "
        "and other personal payloads are never returned (their salted digest is in "
        "`data.private_digest`).",
        tags=["seals"],
        responses={200: s.SealEventSerializer(many=True)},
        examples=[OpenApiExample("Event", value=EVENT_EXAMPLE, response_only=True)],
    )
    @action(detail=True, methods=["get"], pagination_class=None)
    def events(self, request: Request, seal_id: str) -> Response:
        seal = self.get_object()
        events = SealEvent.objects.filter(issuer=request.issuer, seal=seal).select_related("seal")
        return Response(s.SealEventSerializer(events.order_by("seq"), many=True).data)

    @extend_schema(
        summary="The embed snippet for the member's site",
        tags=["seals"],
        parameters=[
            OpenApiParameter(
                "size", OpenApiTypes.STR, enum=["small", "medium", "large"], default="medium"
            )
        ],
        responses={200: s.EmbedSerializer},
        examples=[
            OpenApiExample(
                "Snippet",
                value={
                    "seal": SEAL_EXAMPLE["id"],
                    "size": "medium",
                    "html": '<a href="https://seals.example/verify/q3JxW8yWcV9kq0m3Yb1fYg" '
                    'target="_blank" rel="noopener"><img src="https://seals.example/s/'
                    'q3JxW8yWcV9kq0m3Yb1fYg.svg?size=medium" width="240" height="72" '
                    'alt="Crumb &amp; Co: Master Baker seal of Guild of Bakers"></a>',
                    "image_url": SEAL_EXAMPLE["links"]["image"],
                    "verify_url": SEAL_EXAMPLE["links"]["verify"],
                },
                response_only=True,
            )
        ],
    )
    @action(detail=True, methods=["get"])
    def embed(self, request: Request, seal_id: str) -> Response:
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
