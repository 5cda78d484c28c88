"""Seal actions for people: award, renew, suspend, reinstate, revoke.

Each is a confirmation page (GET: what will happen, the reason to give) and its POST, which calls
the very service the API's action calls, with the staff user as the actor. A refusal by the
rules (a revoked seal renewed, a date in the past) is shown on the form and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from config.errors import DomainError
from console.access import StaffRequest, actor_of, staff_view
from console.forms import AwardForm, ReasonForm, RenewForm
from issuers.models import Member
from seals import registry
from seals import services as seal_services
from seals.models import Seal
from seals.status import effective_status

if TYPE_CHECKING:  # a type of the stubs only
    from django_stubs_ext import StrOrPromise


@dataclass(frozen=True)
class Action:
    title: StrOrPromise
    verb: StrOrPromise
    service: Callable[..., Seal]
    form: type[forms.Form]
    danger: bool = False
    warning: StrOrPromise = ""


ACTIONS: dict[str, Action] = {
    "suspend": Action(
        _("Suspend seal"),
        _("Suspend"),
        seal_services.seal_suspend,
        ReasonForm,
        danger=True,
        warning=_("The seal shows as suspended everywhere at once, until it is reinstated."),
    ),
    "reinstate": Action(
        _("Reinstate seal"), _("Reinstate"), seal_services.seal_reinstate, ReasonForm
    ),
    "revoke": Action(
        _("Revoke seal"),
        _("Revoke"),
        seal_services.seal_revoke,
        ReasonForm,
        danger=True,
        warning=_("Revocation is final: a revoked seal can never be valid again."),
    ),
    "renew": Action(_("Renew seal"), _("Renew"), seal_services.seal_renew, RenewForm),
}


def _apply_error(form: forms.Form, exc: DomainError) -> None:
    field = getattr(exc, "field", None)
    # The service names its own argument (expires_at); the form's field is expires_on.
    names = {"expires_at": "expires_on"}
    field = names.get(field, field) if field is not None else None
    form.add_error(field if field in form.fields else None, exc.detail)


@staff_view()
def seal_action(request: StaffRequest, seal_id: str, action: str) -> HttpResponse:
    spec = ACTIONS.get(action)
    if spec is None:
        raise Http404("No such action.")
    seal = get_object_or_404(Seal.objects.select_related("member", "programme"), public_id=seal_id)
    form = spec.form(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            arguments = (
                form.service_arguments()
                if hasattr(form, "service_arguments")
                else {"reason": form.cleaned_data["reason"]}
            )
            try:
                spec.service(seal=seal, actor=actor_of(request), **arguments)
            except DomainError as exc:
                _apply_error(form, exc)
                status = exc.status_code
            else:
                messages.success(request, _("Done: %(verb)s.") % {"verb": spec.verb})
                return redirect("console:member", pk=seal.member_id)
        else:
            status = 400
    return render(
        request,
        "console/seal_action.html",
        {
            "spec": spec,
            "seal": seal,
            "status": effective_status(seal, timezone.now()),
            "form": form,
            "action_url": reverse("console:seal-action", args=[seal.public_id, action]),
        },
        status=status,
    )


@staff_view()
def seal_award(request: StaffRequest, pk: int) -> HttpResponse:
    member = get_object_or_404(Member, pk=pk)
    form = AwardForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                registry.member_seal_award(
                    member=member, actor=actor_of(request), **form.service_arguments()
                )
            except DomainError as exc:
                _apply_error(form, exc)
                status = exc.status_code
            else:
                messages.success(request, _("Seal awarded."))
                return redirect("console:member", pk=member.pk)
        else:
            status = 400
    return render(
        request, "console/seal_award.html", {"member": member, "form": form}, status=status
    )
