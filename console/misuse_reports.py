"""Misuse reports: what visitors sent from the "Report misuse" form of the issuer's
verification pages (seals.misuse), newest first. Every role may read them; nothing here
writes."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from config.errors import InvalidInputError
from console.access import StaffRequest, staff_view
from console.paging import keyset_page
from seals.models import MisuseReport

REPORTS_PER_PAGE = 50


@staff_view()
@require_safe  # a list to read: nothing here takes a POST
def misuse_report_list(request: StaffRequest) -> HttpResponse:
    # The issuer's scope is open (staff_view): the manager returns its reports only.
    reports = MisuseReport.objects.select_related("seal__member", "seal__programme")
    error = ""
    try:
        page = keyset_page(
            reports, order="-created_at", cursor=request.GET.get("cursor"), size=REPORTS_PER_PAGE
        )
    except InvalidInputError as exc:
        error = str(exc)
        page = keyset_page(reports, order="-created_at", cursor=None, size=REPORTS_PER_PAGE)
    return render(
        request,
        "console/misuse_reports.html",
        {"page": page, "error": error},
        status=400 if error else 200,
    )
