"""Data-subject requests for managers: the register with its one-month clock, a new request,
moving one along (the services' transitions), the member's export and erasure. The services
are privacy's, as the API's are; every step names the staff user in the request's audit."""

from __future__ import annotations

import json

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache

from config.errors import DomainError
from console.access import StaffRequest, actor_of, staff_view
from console.forms import add_service_error
from console.words import translated_choices
from issuers.dates import issuer_zone, start_of
from issuers.models import DataRequest, Member, StaffRole
from issuers.text import validate_multi_line_text
from privacy import services as privacy
from privacy.export_csv import export_zip


class DataRequestForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("Kind"), choices=translated_choices(DataRequest.Kind.choices)
    )
    member = forms.CharField(
        label=gettext_lazy("Member number"),
        required=False,
        max_length=100,
        help_text=gettext_lazy("The member the request is about, if known."),
    )
    requester_name = forms.CharField(
        label=gettext_lazy("Requester"), required=False, max_length=200
    )
    requester_email = forms.EmailField(label=gettext_lazy("Requester e-mail"), required=False)
    received_on = forms.DateField(
        label=gettext_lazy("Received on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy("Empty: now. The one-month clock starts here."),
    )

    def clean_member(self) -> Member | None:
        ref = self.cleaned_data["member"].strip()
        if not ref:
            return None
        # Scoped: a number of another issuer's member is simply not found.
        member = Member.objects.filter(external_ref=ref).first()
        if member is None:
            raise forms.ValidationError(_("No member with this number."))
        return member


class TransitionForm(forms.Form):
    state = forms.ChoiceField(
        label=gettext_lazy("New state"),
        choices=[
            (s, label)
            for s, label in translated_choices(DataRequest.State.choices)
            if s != DataRequest.State.RECEIVED
        ],
    )
    outcome = forms.CharField(
        label=gettext_lazy("Outcome"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        validators=[validate_multi_line_text],
        help_text=gettext_lazy("Required for a rejection: the reasons the requester is given."),
    )


@staff_view()
def data_request_list(request: StaffRequest) -> HttpResponse:
    form = DataRequestForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = dict(form.cleaned_data)
            received = data.pop("received_on")
            # A past day counts from its start (the issuer's day); today, or none, from now.
            received_at = None
            if received is not None and received < timezone.now().date():
                received_at = start_of(received, issuer_zone(request.issuer))
            try:
                created = privacy.data_request_create(
                    issuer=request.issuer,
                    actor=actor_of(request),
                    received_at=received_at,
                    **data,
                )
            except (DomainError, ValidationError) as exc:
                add_service_error(form, exc)
                status = getattr(exc, "status_code", 400)
            else:
                messages.success(request, _("Request recorded."))
                return redirect("console:data-request", pk=created.pk)
    now = timezone.now()
    rows = [
        (r, privacy.data_request_is_overdue(r, now))
        for r in DataRequest.objects.select_related("member").order_by("-received_at")[:200]
    ]
    return render(
        request, "console/data_requests.html", {"rows": rows, "form": form}, status=status
    )


@staff_view()
def data_request_detail(request: StaffRequest, pk: int) -> HttpResponse:
    data_request = get_object_or_404(DataRequest.objects.select_related("member"), pk=pk)
    form = TransitionForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                privacy.data_request_transition(
                    data_request=data_request, actor=actor_of(request), **form.cleaned_data
                )
            except DomainError as exc:
                add_service_error(form, exc)
                status = exc.status_code
            else:
                messages.success(request, _("Request updated."))
                return redirect("console:data-request", pk=data_request.pk)
    return render(
        request,
        "console/data_request.html",
        {
            "data_request": data_request,
            "overdue": privacy.data_request_is_overdue(data_request, timezone.now()),
            "form": form,
        },
        status=status,
    )


@staff_view(read=StaffRole.MANAGER)  # all of a person's data at once: not for viewers
@never_cache
def member_export(request: StaffRequest, pk: int) -> HttpResponse:
    member = get_object_or_404(Member, pk=pk)
    body = json.dumps(privacy.member_export(member), indent=2, ensure_ascii=False, default=str)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="member-{member.pk}.json"'
    return response


@staff_view(read=StaffRole.MANAGER)
@never_cache
def member_export_csv(request: StaffRequest, pk: int) -> HttpResponse:
    """The same export as CSV files, one per table, in a ZIP."""
    member = get_object_or_404(Member, pk=pk)
    response = HttpResponse(
        export_zip(privacy.member_export(member)), content_type="application/zip"
    )
    response["Content-Disposition"] = f'attachment; filename="member-{member.pk}.zip"'
    return response


@staff_view()
def member_erase(request: StaffRequest, pk: int) -> HttpResponse:
    member = get_object_or_404(Member, pk=pk)
    open_requests = DataRequest.objects.filter(
        member=member, kind=DataRequest.Kind.ERASURE
    ).exclude(state__in=privacy.CLOSED_STATES)
    if request.method != "POST":
        return render(
            request, "console/member_erase.html", {"member": member, "requests": open_requests}
        )
    linked = open_requests.filter(pk=request.POST.get("data_request") or 0).first()
    try:
        privacy.member_erase(
            member=member,
            corporate=request.POST.get("corporate") == "on",
            actor=actor_of(request),
            data_request=linked,
        )
    except DomainError as exc:
        messages.error(request, exc.detail)
        return render(
            request,
            "console/member_erase.html",
            {"member": member, "requests": open_requests},
            status=exc.status_code,
        )
    messages.success(request, _("The member's personal data was erased."))
    return redirect("console:member", pk=member.pk)
