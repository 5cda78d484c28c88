"""OpenAPI documentation of privacy.api (summaries, descriptions, examples), applied to each
view class in one line."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view

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

DATA_REQUEST_EXAMPLE: dict[str, Any] = {
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
        "register_listed": None,
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
    "announcements": [
        {
            "subject": "Renewals open for 2027",
            "body": "Dear members,\n\nrenewals for 2027 are open.",
            "state": "sent",
            "skipped_because": None,
            "sent_at": "2026-02-10T08:00:00Z",
        }
    ],
}
FLAGS_EXAMPLE = {"id": 42, "restricted": False, "marketing_opt_out": False, "erased_at": None}


data_requests = extend_schema_view(
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
    transition=extend_schema(
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
    ),
)


member_export = extend_schema_view(
    get=extend_schema(
        summary="Everything held about a member (access, portability)",
        description="One JSON document: profile with contact, seals with their events, "
        "notices, daily and monthly statistics, data requests. See docs/privacy.md.",
        responses={200: dict},
        tags=["privacy"],
        examples=[OpenApiExample("Export", value=EXPORT_EXAMPLE, response_only=True)],
    ),
)


member_erase = extend_schema_view(
    post=extend_schema(
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
                    "misuse_reports_deleted": 0,
                },
                response_only=True,
            ),
        ],
    ),
)


member_restrict = extend_schema_view(
    post=extend_schema(
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
    ),
)


member_object = extend_schema_view(
    post=extend_schema(
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
    ),
)
