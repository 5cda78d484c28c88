"""The console's dashboard and member pages. Thin: reads are seals.selectors', writes the
services' (issuers.services.member_create, seals.registry.member_update)."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from config.db_router import replica_reads
from config.errors import DomainError
from console.access import StaffRequest, actor_of, staff_view
from console.actors import actor_labels
from console.bulk import MAX_SELECTION, SelectionForm
from console.charts import daily_views_svg
from console.forms import MemberFilterForm, MemberForm
from console.paging import Page, requested_page
from issuers import services
from issuers.models import Member
from seals import links, registry, selectors
from seals.models import Seal, SealEvent, SealStatus
from seals.status import effective_status

MEMBERS_PER_PAGE = 50
EXPIRING_DAYS = 30
CHART_DAYS = 30


@staff_view()
def dashboard(request: StaffRequest) -> HttpResponse:
    issuer = request.issuer
    now = timezone.now()
    seals = Seal.objects.filter(issuer=issuer)
    # One COUNT with a FILTER per effective status (the selector's translation of the rule).
    by_status = seals.aggregate(
        **{
            str(status): Count("pk", filter=selectors.seal_status_q(status, now))
            for status in SealStatus
        }
    )
    members = Member.objects.filter(issuer=issuer).aggregate(
        total=Count("pk"),
        restricted=Count("pk", filter=Q(restricted=True)),
        erased=Count("pk", filter=Q(erased_at__isnull=False)),
    )
    expiring = selectors.seals_list(
        issuer=issuer,
        filters={"status": SealStatus.ACTIVE, "expiring_before": now + timedelta(EXPIRING_DAYS)},
        now=now,
    ).order_by("expires_at", "id")
    recent = list(SealEvent.objects.select_related("seal__member").order_by("-seq")[:10])
    today = now.date()
    series = selectors.issuer_stats_daily(
        issuer=issuer, date_from=today - timedelta(days=CHART_DAYS - 1), date_to=today
    )
    return render(
        request,
        "console/dashboard.html",
        {
            "by_status": [(s, s.label, by_status[s.value]) for s in SealStatus],
            "members": members,
            "expiring": expiring[:10],
            "expiring_count": expiring.count(),
            "expiring_days": EXPIRING_DAYS,
            "recent": recent,
            "actors": actor_labels(e.actor for e in recent),
            "series": series,
            "chart": daily_views_svg(series),
        },
    )


@staff_view()
@replica_reads()  # a list; the seal statuses beside each member come from the primary
def members(request: StaffRequest) -> HttpResponse:
    form = MemberFilterForm(request.GET or None)
    valid = not form.is_bound or form.is_valid()
    order = (form.cleaned_data.get("sort") if form.is_bound and valid else "") or "display_name"
    unique = order.lstrip("-") == "external_ref"
    # The list shows no contact: not decrypting three fields per row (the member page does)
    # saves about a tenth of the page's CPU.
    queryset = selectors.members_list(
        issuer=request.issuer,
        filters=form.selector_filters() if form.is_bound and valid else {},
        now=timezone.now(),
    ).defer(*Member.CONTACT_FIELDS)
    error = ""
    if not valid:  # the form says what is wrong; a list ignoring the filters would mislead
        page = Page(items=[], next_cursor=None)
    else:
        page, error = requested_page(
            queryset,
            cursor=request.GET.get("cursor") or None,
            order=order,
            size=MEMBERS_PER_PAGE,
            unique=unique,
        )
    now = timezone.now()
    rows = [(m, [(s, effective_status(s, now)) for s in m.seals.all()]) for m in page.items]
    query = request.GET.copy()
    query.pop("cursor", None)
    return render(
        request,
        "console/members.html",
        {
            "form": form,
            "rows": rows,
            "page": page,
            "error": error,
            "query": query.urlencode(),
            "can_write": request.staff.can("manager"),
            "bulk_form": SelectionForm(),
            "max_selection": MAX_SELECTION,
        },
        status=200 if valid else 400,
    )


@staff_view()
def member_detail(request: StaffRequest, pk: int) -> HttpResponse:
    # Scoped: another issuer's member is not found (404), never forbidden.
    member = get_object_or_404(Member, pk=pk)
    now = timezone.now()
    seals = [
        (seal, effective_status(seal, now), links.verify_url(seal))
        for seal in member.seals.select_related("programme").order_by("-created_at", "-id")
    ]
    history = list(
        SealEvent.objects.filter(seal__member=member).select_related("seal").order_by("-seq")[:100]
    )
    return render(
        request,
        "console/member.html",
        {
            "member": member,
            "seals": seals,
            "history": history,
            "check_links": links.check_urls(member.domains),
            "actors": actor_labels(e.actor for e in history),
            "can_write": request.staff.can("manager"),
        },
    )


def _apply_validation_error(form: MemberForm, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


@staff_view()
def member_create(request: StaffRequest) -> HttpResponse:
    form = MemberForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                member = services.member_create(issuer=request.issuer, **form.cleaned_data)
            except DomainError as exc:
                form.add_error("external_ref" if exc.status_code == 409 else None, exc.detail)
                status = exc.status_code
            except ValidationError as exc:
                _apply_validation_error(form, exc)
            else:
                messages.success(request, _("Member created."))
                return redirect("console:member", pk=member.pk)
    return render(request, "console/member_form.html", {"form": form}, status=status)


@staff_view()
def member_edit(request: StaffRequest, pk: int) -> HttpResponse:
    member = get_object_or_404(Member, pk=pk)
    if request.method == "POST":
        form = MemberForm(request.POST, editing=True)
        status = 400
        if form.is_valid():
            try:
                # One transaction: the profile, its webhook and the seals' details_changed
                # events land together or not at all.
                with transaction.atomic():
                    registry.member_update(
                        member=member, actor=actor_of(request), **form.cleaned_data
                    )
            except DomainError as exc:
                form.add_error(None, exc.detail)
                status = exc.status_code
            except ValidationError as exc:
                _apply_validation_error(form, exc)
            else:
                messages.success(request, _("Member updated."))
                return redirect("console:member", pk=member.pk)
        member.refresh_from_db()
    else:
        form = MemberForm(initial=MemberForm.initial_for(member), editing=True)
        status = 200
    return render(
        request, "console/member_form.html", {"form": form, "member": member}, status=status
    )
