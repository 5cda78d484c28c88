"""Imports: upload a CSV or JSON file of members and seals (the API's import service), then
follow the job. A queued job's page refreshes itself every few seconds (a meta refresh: the
progress bar moves with no script) until the job is done.

By default an upload is a dry run: its page says what the file would change (members and seals
new, updated, unchanged) and lists the row errors (also as CSV); "Run import" then writes the
very file checked (``seals.imports.import_confirm``), with no second upload."""

from __future__ import annotations

import csv

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from config.errors import DomainError
from config.spreadsheet import csv_cell
from console.access import StaffRequest, actor_of, staff_view
from issuers.models import ImportJob
from seals import imports

# As the API's import endpoint (seals.api.imports.ImportViewSet.max_body_bytes).
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
REFRESH_SECONDS = 2


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("File"), help_text=_("CSV or JSON, the columns of the API's import.")
    )
    mode = forms.ChoiceField(
        label=_("If a row has errors"),
        choices=[
            (ImportJob.Mode.ALL_OR_NOTHING, _("write nothing (all or nothing)")),
            (ImportJob.Mode.PARTIAL, _("write the valid rows (partial)")),
        ],
    )
    dry_run = forms.BooleanField(
        label=_("Check first (dry run)"),
        required=False,
        initial=True,
        help_text=_("See what would change and any row errors, then run the import."),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("The file is larger than 50 MB; split it."))
        return upload


def _format_of(upload) -> str:
    name = (upload.name or "").lower()
    return "json" if name.endswith(".json") or "json" in (upload.content_type or "") else "csv"


@staff_view()
def import_list(request: StaffRequest) -> HttpResponse:
    form = ImportForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                job, _report = imports.import_start(
                    issuer=request.issuer,
                    data=upload.read(),
                    fmt=_format_of(upload),
                    mode=form.cleaned_data["mode"],
                    dry_run=form.cleaned_data["dry_run"],
                    actor=actor_of(request),
                )
            except DomainError as exc:  # the file as a whole is unusable
                form.add_error("file", exc.detail)
                status = exc.status_code
            else:
                return redirect("console:import", pk=job.pk)
    jobs = ImportJob.objects.defer("source").order_by("-created_at")[:50]
    return render(request, "console/imports.html", {"form": form, "jobs": jobs}, status=status)


@staff_view()
def import_detail(request: StaffRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(ImportJob.objects.defer("source"), pk=pk)
    running = job.state in (ImportJob.State.QUEUED, ImportJob.State.RUNNING)
    return render(
        request,
        "console/import.html",
        {
            "job": job,
            "running": running,
            "refresh": REFRESH_SECONDS,
            "can_run": _can_run(request, job),
            # The page lists the job's first errors; the CSV has every one.
            "errors_more": max(0, job.error_count - len(job.errors)),
        },
    )


def _can_run(request: StaffRequest, job: ImportJob) -> bool:
    """Offer "Run import" on a finished dry run that keeps its file, unless the run would
    write nothing (all or nothing, with rows in error)."""
    if not job.dry_run or job.state not in (ImportJob.State.SUCCEEDED, ImportJob.State.FAILED):
        return False
    if job.failed and job.mode == ImportJob.Mode.ALL_OR_NOTHING:
        return False
    kept = ImportJob.objects.filter(pk=job.pk, source__isnull=False).exists()
    return kept and request.staff.can("manager")


@staff_view()
@require_POST
def import_run(request: StaffRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(ImportJob.objects.defer("source").select_related("issuer"), pk=pk)
    try:
        new, _report = imports.import_confirm(job=job, actor=actor_of(request))
    except DomainError as exc:  # confirmed already, or its file dropped by retention
        messages.error(request, exc.detail)
        return redirect("console:import", pk=job.pk)
    return redirect("console:import", pk=new.pk)


@staff_view()
def import_errors_csv(request: StaffRequest, pk: int) -> HttpResponse:
    """Every row error of the import, however many, in the file's order."""
    job = get_object_or_404(ImportJob.objects.defer("source"), pk=pk)
    # Built whole inside the request's issuer scope, as the audit CSV (a streamed body would be
    # read after the scope closed); read two thousand at a time, in bounded memory.
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    writer = csv.writer(response)
    writer.writerow(["row", "field", "code", "message"])
    for error in imports.import_row_errors(job=job).iterator(chunk_size=2000):
        # Messages quote the file's values: a cell a spreadsheet would run is defused.
        writer.writerow(
            [error.row, csv_cell(error.field or None), error.code, csv_cell(error.message)]
        )
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-errors.csv"'
    return response
