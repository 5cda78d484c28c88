"""OpenAPI documentation of seals.api.views: summaries, descriptions and examples, applied to
each view class in one line (``@docs.members``), so the views module reads as the views.

A change here changes what /api/schema/ says, never what the API does.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiRequest,
    extend_schema,
    extend_schema_view,
)
from rest_framework import serializers

from seals.api import serializers as s

# --- issuer -------------------------------------------------------------------------------

ISSUER_EXAMPLE = {
    "slug": "guild-of-bakers",
    "name": "Guild of Bakers",
    "kind": "association",
    "website": "https://bakers.example",
    "description": "The national bakers' trade association.",
    "public_email": "office@bakers.example",
    "register_lists_members": True,
    "status": "active",
    "logo_version": 1,
    "has_logo": True,
    "created_at": "2026-01-05T09:30:00Z",
    "updated_at": "2026-02-01T10:00:00Z",
}


issuer = extend_schema_view(
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
            OpenApiExample(
                "Members opt in to the public register",
                value={"register_lists_members": False},
                request_only=True,
            ),
            OpenApiExample("Issuer", value=ISSUER_EXAMPLE, response_only=True),
        ],
    ),
)

issuer_logo = extend_schema(
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

# --- programmes ---------------------------------------------------------------------------

PROGRAMME_EXAMPLE = {
    "slug": "master-baker",
    "name": "Master Baker",
    "description": "Bakeries run by a certified master baker.",
    "criteria_url": "https://bakers.example/master-baker",
    "renewal_url": "https://bakers.example/renew",
    "validity_days": 365,
    "notice_days": [30, 7, 1],
    "theme": "light",
    "wording": "Certified master baker",
    "accent_colour": "#8a4b08",
    "signatory_name": "Ada Byron",
    "signatory_title": "Registrar",
    "is_default": False,
    "created_at": "2026-01-05T09:30:00Z",
    "updated_at": "2026-01-05T09:30:00Z",
}


programmes = extend_schema_view(
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
    "register_listed": None,
    "language": "en",
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

members = extend_schema_view(
    list=extend_schema(
        summary="List members",
        tags=["members"],
        examples=[OpenApiExample("Members", value=MEMBER_EXAMPLE, response_only=True)],
        parameters=[
            s.MemberFilterSerializer,
            OpenApiParameter(
                "ordering",
                OpenApiTypes.STR,
                description="One of " + ", ".join(s.MEMBER_ORDERING) + "; prefix - to reverse.",
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
        "member's seals (`details_changed`) and shown by public seals at once. "
        "`register_listed` is the member's choice about the public register "
        "(`/issuers/<slug>/register`): `false` leaves it, `true` joins it, `null` follows the "
        "issuer's `register_lists_members`.",
        tags=["members"],
        examples=[
            OpenApiExample(
                "Add a domain",
                value={"domains": ["crumb.example", "shop.crumb.example"]},
                request_only=True,
            ),
            OpenApiExample(
                "Leave the public register", value={"register_listed": False}, request_only=True
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

# --- seals --------------------------------------------------------------------------------

SEAL_EXAMPLE: dict[str, Any] = {
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


seals = extend_schema_view(
    list=extend_schema(
        summary="List seals",
        tags=["seals"],
        parameters=[s.SealFilterSerializer],
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
    suspend=_action_schema(
        "suspend", s.SealReasonSerializer, {"reason": "Membership fees unpaid."}
    ),
    reinstate=_action_schema("reinstate", s.SealReasonSerializer, {"reason": "Fees paid."}),
    revoke=_action_schema("revoke", s.SealReasonSerializer, {"reason": "Left the association."}),
    renew=_action_schema(
        "renew",
        s.SealRenewSerializer,
        {"expires_at": "2028-01-05T09:30:00Z", "reason": "Annual renewal."},
    ),
    events=extend_schema(
        summary="A seal's history, with the chain hashes",
        description="Events in chain order. `hash = sha256(prev_hash ‖ JCS(event))`; reasons "
        "and other personal payloads are never returned (their salted digest is in "
        "`data.private_digest`).",
        tags=["seals"],
        responses={200: s.SealEventSerializer(many=True)},
        examples=[OpenApiExample("Event", value=EVENT_EXAMPLE, response_only=True)],
    ),
    embed=extend_schema(
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
    ),
)
