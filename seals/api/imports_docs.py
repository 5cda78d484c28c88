"""OpenAPI documentation of seals.api.imports (summaries, descriptions, examples), applied to
the view class in one line."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiRequest,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)

from config.problems import PROBLEM_CONTENT_TYPE, problem_body
from issuers.api.schema import ProblemSerializer
from seals import imports
from seals.api import serializers as s

JOB_EXAMPLE = {
    "id": 7,
    "state": "running",
    "format": "csv",
    "mode": "all_or_nothing",
    "dry_run": False,
    "total": 25000,
    "processed": 25000,
    "created": 9000,
    "updated": 2500,
    "unchanged": 500,
    "failed": 0,
    "seals_awarded": 9000,
    "seals_renewed": 1800,
    "seals_unchanged": 1200,
    "errors": [],
    "error_count": 0,
    "phase": "write",
    "attempts": 1,
    "reason": "",
    "created_at": "2026-03-01T08:00:00Z",
    "finished_at": None,
}
CSV_EXAMPLE = (
    "external_ref,legal_name,display_name,domains,country,contact_email,programme,expires_at\n"
    "GB-0042,Crumb & Co Ltd,Crumb & Co,crumb.example shop.crumb.example,GB,ada@crumb.example,"
    "member,2027-01-31\n"
)

DRY_RUN_EXAMPLE = {
    **JOB_EXAMPLE,
    "id": 9,
    "state": "succeeded",
    "dry_run": True,
    "total": 3000,
    "processed": 3000,
    "created": 2000,
    "updated": 400,
    "unchanged": 350,
    "failed": 250,
    "seals_awarded": 2000,
    "seals_renewed": 300,
    "seals_unchanged": 450,
    "errors": [
        {
            "row": 12,
            "field": "contact_email",
            "message": "Enter a valid email address.",
            "code": "invalid",
        }
    ],
    "error_count": 250,
    "phase": "check",
    "finished_at": "2026-03-01T08:00:09Z",
}
ERRORS_PAGE_EXAMPLE = {
    "next": "https://seals.example.org/api/v1/imports/9/errors?cursor=cD0xMDA%3D",
    "previous": None,
    "results": DRY_RUN_EXAMPLE["errors"],
}


import_jobs = extend_schema_view(
    list=extend_schema(
        summary="List imports",
        tags=["imports"],
        examples=[OpenApiExample("Imports", value=JOB_EXAMPLE, response_only=True)],
    ),
    retrieve=extend_schema(
        summary="An import and its progress",
        description="Poll this for a queued import (more than 1,000 rows) until `state` is "
        "`succeeded` or `failed`. It is written in batches of 1,000 rows, each committed with "
        "its counts: `phase` `check` (all-or-nothing and dry runs: every row checked first, "
        "nothing written), then `write`. An import whose worker stopped is resumed from its "
        "last batch (`attempts` counts the runs); one that cannot finish is `failed` with a "
        "`reason`.",
        tags=["imports"],
        examples=[
            OpenApiExample("Running", value=JOB_EXAMPLE, response_only=True),
            OpenApiExample("A finished dry run", value=DRY_RUN_EXAMPLE, response_only=True),
        ],
    ),
    errors=extend_schema(
        summary="Every row error of an import",
        description="The job's `errors` holds the first 100; this lists all `error_count` of "
        "them, in the file's order, 50 a page (`limit` up to 200), cursor-paginated.",
        tags=["imports"],
        responses={200: s.ImportRowErrorSerializer(many=True)},
        examples=[OpenApiExample("Row errors", value=ERRORS_PAGE_EXAMPLE, response_only=True)],
    ),
    create=extend_schema(
        summary="Import members and their seals (upsert by external_ref)",
        description=(
            "Send the file as the body: `text/csv` (UTF-8, BOM tolerated, header row) or "
            '`application/json` (a list of row objects, or `{"rows": [...], "mode": ..., '
            '"dry_run": ...}`), up to 5 MB; or a multipart form with a `file` field (up to '
            "50 MB). Columns: " + ", ".join(imports.COLUMNS) + " (external_ref and legal_name "
            "required; domains separated by spaces, commas or semicolons; dates ISO 8601). "
            "`mode` and `dry_run` as query parameters (or JSON/form fields).\n\n"
            "Up to 1,000 rows run at once: 201 with the report (a dry run: 200). In "
            "all_or_nothing mode a file with bad rows writes nothing and answers 422 with "
            "`errors`, one per bad field with its row number. More rows: 202 with the job in "
            "the body and its URL in `Location`; poll it."
        ),
        tags=["imports"],
        parameters=[s.ImportOptionsSerializer],
        request={
            "text/csv": OpenApiRequest(OpenApiTypes.STR, examples=[]),
            "application/json": OpenApiRequest(OpenApiTypes.OBJECT),
            "multipart/form-data": {
                "type": "object",
                "properties": {
                    "file": {"type": "string", "format": "binary"},
                    "mode": {"type": "string", "enum": ["all_or_nothing", "partial"]},
                    "dry_run": {"type": "boolean"},
                },
            },
        },
        responses={
            200: s.ImportJobSerializer,
            201: s.ImportJobSerializer,
            202: s.ImportJobSerializer,
            (422, PROBLEM_CONTENT_TYPE): OpenApiResponse(
                ProblemSerializer,
                description="All-or-nothing import with bad rows (nothing written; `errors` "
                "has one entry per bad field with its `row`), or an Idempotency-Key reused "
                "with another request.",
                examples=[
                    OpenApiExample(
                        "import_rejected",
                        value=problem_body(
                            status_code=422,
                            code="import_rejected",
                            detail="1 of 3 rows have errors; nothing was written (mode "
                            "all_or_nothing). Fix them, or send mode=partial to keep the valid "
                            "rows.",
                            instance="/api/v1/imports",
                            errors=[
                                {
                                    "row": 3,
                                    "field": "contact_email",
                                    "message": "Enter a valid email address.",
                                    "code": "invalid",
                                }
                            ],
                            import_id=8,
                        ),
                    ),
                    OpenApiExample(
                        "idempotency_key_reused",
                        value=problem_body(
                            status_code=422,
                            code="idempotency_key_reused",
                            detail="Idempotency-Key 'abc' was already used with a different "
                            "request; use a new key for a new request.",
                            instance="/api/v1/imports",
                        ),
                    ),
                ],
            ),
        },
        examples=[
            OpenApiExample(
                "CSV",
                value=CSV_EXAMPLE,
                request_only=True,
                media_type="text/csv",
            ),
            OpenApiExample(
                "JSON",
                value={
                    "mode": "partial",
                    "rows": [
                        {
                            "external_ref": "GB-0042",
                            "legal_name": "Crumb & Co Ltd",
                            "domains": ["crumb.example"],
                            "expires_at": "2027-01-31",
                        }
                    ],
                },
                request_only=True,
                media_type="application/json",
            ),
            OpenApiExample("Job", value=JOB_EXAMPLE, response_only=True),
        ],
    ),
)
