"""Statistics: image and verification views and misuse hits per day, for the issuer (or one
programme) or one seal, as the API answers them (``seals.selectors.issuer_stats_daily``,
``seal_stats_daily``, ``stats_window``): the dashboard's SVG chart, the numbers in a table, and
the same numbers as CSV."""

from __future__ import annotations

import csv
from dataclasses import dataclass

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from config.db_router import replica_reads
from config.errors import InvalidInputError
from console.access import StaffRequest, staff_view
from console.charts import daily_views_svg
from console.forms import StatsFilterForm
from issuers.models import Programme
from seals import misuse_hosts, selectors
from seals.models import Seal
from seals.selectors import StatsSeries


@dataclass(frozen=True, kw_only=True)
class Subject:
    """What a statistics request counts: the issuer, one programme, or one seal."""

    series: StatsSeries
    programme: Programme | None = None
    seal: Seal | None = None


def _subject(request: StaffRequest, form: StatsFilterForm) -> Subject | None:
    """The series ``form`` asks for, or None when it is invalid (a window the API refuses is
    added to its errors); an unknown programme or seal, or another issuer's, is a 404."""
    if not form.is_valid():
        return None
    data = form.cleaned_data
    try:
        date_from, date_to = selectors.stats_window(
            date_from=data["date_from"], date_to=data["date_to"], today=timezone.now().date()
        )
    except InvalidInputError as exc:
        form.add_error("date_from" if exc.field == "from" else "date_to", exc.detail)
        return None
    if data["seal"]:
        seal = (
            Seal.objects.filter(issuer=request.issuer, public_id=data["seal"])
            .select_related("member", "programme")
            .first()
        )
        if seal is None:
            raise Http404("No such seal.")
        series = selectors.seal_stats_daily(seal=seal, date_from=date_from, date_to=date_to)
        return Subject(series=series, seal=seal)
    programme = None
    if data["programme"]:
        programme = Programme.objects.filter(issuer=request.issuer, slug=data["programme"]).first()
        if programme is None:
            raise Http404("No such programme.")
    series = selectors.issuer_stats_daily(
        issuer=request.issuer, date_from=date_from, date_to=date_to, programme=programme
    )
    return Subject(series=series, programme=programme)


def _misuse_hosts(request: StaffRequest, subject: Subject) -> list[misuse_hosts.MisuseHostRow]:
    """The foreign hosts of the subject's window (console/misuse_hosts.html)."""
    date_from, date_to = subject.series.date_from, subject.series.date_to
    if subject.seal is not None:
        return misuse_hosts.seal_misuse_hosts(
            seal=subject.seal, date_from=date_from, date_to=date_to
        )
    return misuse_hosts.issuer_misuse_hosts(
        issuer=request.issuer, programme=subject.programme, date_from=date_from, date_to=date_to
    )


@staff_view()
@replica_reads()  # statistics tolerate replica lag; they decide no status
def stats_page(request: StaffRequest) -> HttpResponse:
    form = StatsFilterForm(request.GET or {})
    subject = _subject(request, form)
    return render(
        request,
        "console/stats.html",
        {
            "form": form,
            "subject": subject,
            "series": subject.series if subject else None,
            "chart": daily_views_svg(subject.series) if subject else "",
            "misuse_hosts": _misuse_hosts(request, subject) if subject else [],
            "query": request.GET.urlencode(),
            "max_days": selectors.STATS_MAX_DAYS,
            "default_days": selectors.STATS_DEFAULT_DAYS,
        },
        status=200 if subject else 400,
    )


@staff_view()
@replica_reads()
def stats_csv(request: StaffRequest) -> HttpResponse:
    form = StatsFilterForm(request.GET or {})
    subject = _subject(request, form)
    if subject is None:
        problems = [str(m) for errors in form.errors.values() for m in errors]
        return HttpResponse(
            "; ".join(problems) or _("Invalid filters."),
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    series = subject.series
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    writer = csv.writer(response)
    # Column names as the API's JSON names them, so a script reads either the same way.
    writer.writerow(["date", "impressions", "verifications", "misuse_hits"])
    for day in series.days:
        writer.writerow([day.date.isoformat(), day.impressions, day.verifications, day.misuse_hits])
    name = subject.seal.public_id if subject.seal else request.issuer.slug
    if subject.programme:
        name += f"-{subject.programme.slug}"
    response["Content-Disposition"] = (
        f'attachment; filename="stats-{name}-{series.date_from}-{series.date_to}.csv"'
    )
    return response
