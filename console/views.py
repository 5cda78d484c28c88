"""The console's read pages: dashboard, members. Thin: the reads are seals.selectors'."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from config.errors import InvalidInputError
from console.access import staff_view
from console.actors import actor_labels
from console.charts import daily_views_svg
from console.forms import MemberFilterForm
from console.paging import keyset_page
from issuers.models import Member
from seals import links, selectors
from seals.models import Seal, SealEvent, SealStatus
from seals.status import effective_status

MEMBERS_PER_PAGE = 50
EXPIRING_DAYS = 30
CHART_DAYS = 30


@staff_view()
def dashboard(request: HttpRequest) -> HttpResponse:
    issuer = request.issuer
    now = timezone.now()
    seals = Seal.objects.filter(issuer=issuer)
    # One COUNT with a FILTER per effective status (the selector's translation of the rule).
    by_status = seals.aggregate(
        **{
            status: Count("pk", filter=selectors.seal_status_q(status, now))
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
def members(request: HttpRequest) -> HttpResponse:
    form = MemberFilterForm(request.GET or None)
    filters = form.selector_filters() if form.is_valid() else {}
    order = (form.cleaned_data.get("sort") if form.is_bound and form.is_valid() else "") or (
        "display_name"
    )
    queryset = selectors.members_list(issuer=request.issuer, filters=filters, now=timezone.now())
    error = ""
    try:
        page = keyset_page(
            queryset,
            order=order,
            cursor=request.GET.get("cursor") or None,
            size=MEMBERS_PER_PAGE,
            unique=order.lstrip("-") == "external_ref",
        )
    except InvalidInputError as exc:
        error = str(exc)
        page = keyset_page(queryset, order=order, cursor=None, size=MEMBERS_PER_PAGE)
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
        },
        status=400 if form.is_bound and not form.is_valid() else 200,
    )


@staff_view()
def member_detail(request: HttpRequest, pk: int) -> HttpResponse:
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
            "actors": actor_labels(e.actor for e in history),
            "can_write": request.staff.can("manager"),
        },
    )
