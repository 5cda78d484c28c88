"""The audit log: the issuer's seal events (its hash-chained history), filtered, paged, and
exported as CSV. Reasons and other private payloads are left out, as the API leaves them out."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from zoneinfo import ZoneInfo

from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from config.spreadsheet import csv_cell
from console.access import StaffRequest, staff_view
from console.actors import actor_labels
from console.forms import AuditFilterForm
from console.paging import Page, requested_page
from issuers.dates import end_of, issuer_zone, start_of
from issuers.models import AuditEntry
from seals.models import SealEvent

EVENTS_PER_PAGE = 100
CSV_COLUMNS = [
    "seq",
    "occurred_at",
    "kind",
    "actor",
    "actor_email",
    "seal",
    "member_number",
    "member_name",
    "data",
    "hash",
]


def _events(form: AuditFilterForm, zone: ZoneInfo) -> QuerySet[SealEvent]:
    """The filtered events; the days of the filter are the issuer's (its time zone)."""
    events = SealEvent.objects.select_related("seal__member")
    if not form.is_valid():
        return events
    data = form.cleaned_data
    if data.get("kind"):
        events = events.filter(kind=data["kind"])
    if data.get("actor"):
        events = events.filter(actor__icontains=data["actor"])
    if data.get("member"):
        events = events.filter(seal__member__external_ref=data["member"])
    if data.get("date_from"):
        events = events.filter(occurred_at__gte=start_of(data["date_from"], zone))
    if data.get("date_to"):
        events = events.filter(occurred_at__lt=end_of(data["date_to"], zone))
    return events


@staff_view()
def audit_log(request: StaffRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or None)
    error = ""
    if form.is_bound and not form.is_valid():
        # The form says what is wrong; events that ignored the filters would mislead.
        page = Page(items=[], next_cursor=None)
    else:
        events = _events(form, issuer_zone(request.issuer))
        # seq is unique per issuer (one_event_per_chain_position): it orders the page alone.
        page, error = requested_page(
            events,
            cursor=request.GET.get("cursor") or None,
            order="-seq",
            size=EVENTS_PER_PAGE,
            unique=True,
        )
    query = request.GET.copy()
    query.pop("cursor", None)
    return render(
        request,
        "console/audit.html",
        {
            "form": form,
            "page": page,
            "actors": actor_labels(e.actor for e in page.items),
            "error": error,
            "query": query.urlencode(),
        },
        status=400 if form.is_bound and not form.is_valid() else 200,
    )


def _rows(events: QuerySet[SealEvent]) -> Iterator[list[str]]:
    yield CSV_COLUMNS
    batch: list[SealEvent] = []
    # In chain order, a thousand at a time, so a long history streams in bounded memory.
    for event in events.order_by("seq").iterator(chunk_size=1000):
        batch.append(event)
        if len(batch) == 1000:
            yield from _format(batch)
            batch = []
    yield from _format(batch)


def _format(batch: list[SealEvent]) -> Iterator[list[str]]:
    labels = actor_labels(e.actor for e in batch)
    for e in batch:
        member = e.seal.member
        yield [
            csv_cell(v)
            for v in (
                e.seq,
                e.occurred_at.isoformat(),
                e.kind,
                e.actor,
                labels.get(e.actor, ""),
                e.seal.public_id,
                member.external_ref,
                member.display_name,
                json.dumps(e.data, sort_keys=True, separators=(",", ":")),
                e.hash,
            )
        ]


@staff_view()
def audit_csv(request: StaffRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        return HttpResponse(
            "; ".join(str(e) for e in form.non_field_errors()) or "Invalid filters.",
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    # Built whole inside the request's issuer scope (a streamed body would be read after the
    # view returned and its scope closed); batches of a thousand keep the queries few.
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    writer = csv.writer(response)
    for row in _rows(_events(form, issuer_zone(request.issuer))):
        writer.writerow(row)
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = (
        f'attachment; filename="audit-{request.issuer.slug}-{stamp}.csv"'
    )
    return response


@staff_view()
def account_log(request: StaffRequest) -> HttpResponse:
    """Changes to the account itself: staff, API keys, webhooks, each with who made it."""
    page, error = requested_page(
        AuditEntry.objects.all(),
        cursor=request.GET.get("cursor") or None,
        order="-id",
        size=EVENTS_PER_PAGE,
        unique=True,
    )
    return render(
        request,
        "console/account_log.html",
        {"page": page, "actors": actor_labels(e.actor for e in page.items), "error": error},
    )
