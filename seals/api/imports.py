"""POST /imports (CSV or JSON upsert of members and their seals) and the job resource."""

from __future__ import annotations

import json
from typing import Any

from django.db.models import QuerySet
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import BaseParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from config.problems import problem_body
from issuers.api.base import ApiCursorPagination, IssuerRequest, IssuerViewSet
from issuers.models import ImportJob
from seals import imports
from seals.api import imports_docs as docs
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


class RowErrorPagination(ApiCursorPagination):
    # In the file's order (errors are stored as the rows are checked), with no ?ordering=.
    ordering = ("id",)  # type: ignore[assignment]  # one key: ids are unique

    def get_ordering(self, request: Request, queryset: QuerySet, view: Any) -> tuple[str, ...]:
        return self.ordering


@docs.import_jobs
class ImportViewSet(
    IssuerViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin
):
    queryset = ImportJob.objects.none()
    serializer_class = s.ImportJobSerializer
    parser_classes = [CSVParser, JSONRawParser, MultiPartParser]
    max_body_bytes = 50 * 1024 * 1024

    def get_queryset(self) -> QuerySet[ImportJob]:
        return super().get_queryset().defer("source")

    @action(detail=True, methods=["get"], pagination_class=RowErrorPagination)
    def errors(self, request: Request, pk: str) -> Response:
        """Every row error of the import, in the file's order (the job keeps the first 100)."""
        page = self.paginate_queryset(imports.import_row_errors(job=self.get_object()))
        return self.get_paginated_response(s.ImportRowErrorSerializer(page, many=True).data)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        request = self.request  # the same object, typed with what the base set on it
        data, fmt, options = self._source(request)
        opts = s.ImportOptionsSerializer(data=options)
        opts.is_valid(raise_exception=True)
        # An unusable file is the service's ImportFileError: a 400 on file.
        job, report = imports.import_start(
            issuer=request.issuer,
            data=data,
            fmt=fmt,
            mode=opts.validated_data["mode"],
            dry_run=opts.validated_data["dry_run"],
            actor=actor_of(request),
        )
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

    def _source(self, request: IssuerRequest) -> tuple[bytes, str, dict[str, Any]]:
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
