"""POST /imports (CSV or JSON upsert of members and their seals) and the job resource."""

from __future__ import annotations

import json
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiRequest,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.parsers import BaseParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from config.problems import PROBLEM_CONTENT_TYPE, problem_body
from issuers.api.base import IssuerViewSet
from issuers.api.schema import ProblemSerializer
from issuers.models import ImportJob
from seals import imports
from seals.api import serializers as s
from seals.api.views import actor_of


class RawParser(BaseParser):
    """Keeps the body as bytes: the import service decodes and parses it (row numbers and
    encoding errors are reported from there)."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None):
        return {"__raw__": stream.read() if stream is not None else b""}


class CSVParser(RawParser):
    media_type = "text/csv"


class JSONRawParser(RawParser):
    media_type = "application/json"


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
    "errors": [],
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


@extend_schema_view(
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
        examples=[OpenApiExample("Running", value=JOB_EXAMPLE, response_only=True)],
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
class ImportViewSet(
    IssuerViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin
):
    queryset = ImportJob.objects.defer("source")
    serializer_class = s.ImportJobSerializer
    parser_classes = [CSVParser, JSONRawParser, MultiPartParser]
    max_body_bytes = 50 * 1024 * 1024

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data, fmt, options = self._source(request)
        opts = s.ImportOptionsSerializer(data=options)
        opts.is_valid(raise_exception=True)
        try:
            job, report = imports.import_start(
                issuer=request.issuer,
                data=data,
                fmt=fmt,
                mode=opts.validated_data["mode"],
                dry_run=opts.validated_data["dry_run"],
                actor=actor_of(request),
            )
        except imports.ImportFileError as exc:
            raise serializers.ValidationError({"file": [str(exc)]}) from exc
        body = self.get_serializer(job).data
        location = {"Location": f"/api/v1/imports/{job.pk}"}
        if report is None:
            return Response(body, status=status.HTTP_202_ACCEPTED, headers=location)
        if job.state == ImportJob.State.FAILED:
            problem = problem_body(
                status_code=422,
                code="import_rejected",
                detail=(
                    f"{report.failed} of {report.total} rows have errors; nothing was written "
                    "(mode all_or_nothing). Fix them, or send mode=partial to keep the valid "
                    "rows."
                ),
                instance=request.get_full_path(),
                errors=report.errors,
                import_id=job.pk,
            )
            return Response(
                problem, status=422, headers=location, content_type="application/problem+json"
            )
        code = status.HTTP_200_OK if job.dry_run else status.HTTP_201_CREATED
        return Response(body, status=code, headers=location)

    def _source(self, request: Request) -> tuple[bytes, str, dict[str, Any]]:
        options: dict[str, Any] = {
            k: request.query_params[k] for k in ("mode", "dry_run") if k in request.query_params
        }
        content_type = request.content_type.split(";")[0].strip().lower()
        if content_type == "multipart/form-data":
            upload = request.data.get("file")
            if upload is None:
                raise serializers.ValidationError({"file": ["Attach the file as 'file'."]})
            options.update({k: request.data[k] for k in ("mode", "dry_run") if k in request.data})
            name = (upload.name or "").lower()
            fmt = (
                "json" if name.endswith(".json") or "json" in (upload.content_type or "") else "csv"
            )
            return upload.read(), fmt, options
        raw = request.data.get("__raw__", b"") if hasattr(request.data, "get") else b""
        if content_type == "application/json":
            try:
                parsed = json.loads(raw or b"null")
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise exceptions.ParseError(f"JSON parse error - {exc}") from exc
            if isinstance(parsed, dict):
                options.update({k: parsed[k] for k in ("mode", "dry_run") if k in parsed})
            return raw, "json", options
        return raw, "csv", options
