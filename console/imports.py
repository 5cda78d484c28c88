"""Imports: upload a CSV or JSON file of members and seals (the API's import service), then
follow the job. A queued job's page refreshes itself every few seconds (a meta refresh: the
progress bar moves with no script) until the job is done."""

from __future__ import annotations

from django import forms
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext_lazy as _

from config.errors import DomainError
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
    dry_run = forms.BooleanField(label=_("Check only (dry run)"), required=False)

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
        {"job": job, "running": running, "refresh": REFRESH_SECONDS},
    )
