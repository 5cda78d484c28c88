"""Bulk seal actions: suspend, reinstate, revoke or renew the seals ticked in the members list.

The list is a form (no script needed). Its POST is the review: every selected seal with what the
action will do to it, or why it will be left alone (``seals.services.seal_action_refusal``, the
rule the services themselves check). Confirming with a reason applies the action seal by seal
through the very services the single actions call, the staff user recorded as the actor of each
seal's event (the audit log). Each seal is its own transaction: one refused under its row lock
(changed meanwhile by someone else) is reported and the others still go through.

Scoped like every console view: a seal of another issuer is not found (404, nothing changed);
a viewer's POST is a 403 before this runs (``staff_view``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from config.errors import DomainError
from console.access import StaffRequest, actor_of, staff_view
from console.seal_actions import ACTIONS
from seals.models import Seal, SealStatus
from seals.services import seal_action_refusal
from seals.status import effective_status

if TYPE_CHECKING:  # a type of the stubs only
    from django_stubs_ext import StrOrPromise

# A bulk action is a review page listing every seal, then one service call per seal inside the
# request: a few hundred keep both well under a second or two. Larger changes are an import's.
MAX_SELECTION = 200

# What the action will do, in the console's words (the services' refusals are the API's English).
OUTCOMES = {
    "suspend": gettext_lazy("will be suspended until reinstated"),
    "reinstate": gettext_lazy("will be reinstated"),
    "revoke": gettext_lazy("will be revoked, for good"),
    "renew": gettext_lazy("will get the new expiry date"),
}
REFUSALS: dict[tuple[str, str], StrOrPromise] = {
    ("suspend", SealStatus.SUSPENDED): gettext_lazy("left alone: already suspended"),
    ("suspend", SealStatus.REVOKED): gettext_lazy("left alone: revoked seals cannot be suspended"),
    ("revoke", SealStatus.REVOKED): gettext_lazy("left alone: already revoked"),
    ("renew", SealStatus.REVOKED): gettext_lazy("left alone: revoked seals cannot be renewed"),
}
NOT_SUSPENDED = gettext_lazy("left alone: only a suspended seal can be reinstated")


class SelectionForm(forms.Form):
    action = forms.ChoiceField(
        label=gettext_lazy("With the selected seals"),
        choices=[(name, spec.verb) for name, spec in ACTIONS.items()],
    )


@dataclass(frozen=True)
class Line:
    seal: Seal
    status: str  # effective, as the list shows it
    applies: bool
    outcome: str


def _refusal_words(action: str, status: str) -> str:
    return str(REFUSALS.get((action, status), NOT_SUSPENDED))


def _lines(action: str, seals: list[Seal]) -> list[Line]:
    now = timezone.now()
    lines = []
    for seal in seals:
        refused = bool(seal_action_refusal(action=action, status=seal.status))
        outcome = _refusal_words(action, seal.status) if refused else str(OUTCOMES[action])
        lines.append(Line(seal, effective_status(seal, now), not refused, outcome))
    return lines


def _selected(request: StaffRequest) -> list[Seal]:
    """The ticked seals, in the issuer's scope: an id that is not one of its seals is a 404."""
    ids = list(dict.fromkeys(request.POST.getlist("seal")))
    if len(ids) > MAX_SELECTION:
        return []  # the caller says why; nothing is looked up
    seals = list(
        Seal.objects.filter(public_id__in=ids)
        .select_related("member", "programme")
        .order_by("member__display_name", "id")
    )
    if len(seals) != len(ids):
        raise Http404("No such seal.")
    return seals


@staff_view()
@require_POST
def bulk_action(request: StaffRequest) -> HttpResponse:
    """The review (the list's POST), then, with ``confirm`` and a reason, the change."""
    selection = SelectionForm(request.POST)
    if not selection.is_valid():
        return _refuse(request, _("Choose an action for the selected seals."))
    count = len(set(request.POST.getlist("seal")))
    if count == 0:
        return _refuse(request, _("Tick at least one seal in the list first."))
    if count > MAX_SELECTION:
        return _refuse(
            request,
            _(
                "%(count)d seals are selected; a bulk action takes at most %(max)d at a time. "
                "Narrow the list with the filters, or use an import for larger changes."
            )
            % {"count": count, "max": MAX_SELECTION},
        )
    action = selection.cleaned_data["action"]
    spec = ACTIONS[action]
    seals = _selected(request)
    confirming = "confirm" in request.POST
    form = spec.form(request.POST if confirming else None)
    status = 200
    if confirming:
        if form.is_valid():
            return _apply(request, action, seals, form)
        status = 400
    return render(
        request,
        "console/bulk_action.html",
        {
            "spec": spec,
            "action": action,
            "lines": _lines(action, seals),
            "applicable": sum(
                1 for s in seals if not seal_action_refusal(action=action, status=s.status)
            ),
            "form": form,
        },
        status=status,
    )


def _refuse(request: StaffRequest, why: str) -> HttpResponse:
    return render(request, "console/bulk_action.html", {"problem": why}, status=400)


def _apply(request: StaffRequest, action: str, seals: list[Seal], form: forms.Form) -> HttpResponse:
    spec = ACTIONS[action]
    arguments = (
        form.service_arguments()  # RenewForm's
        if hasattr(form, "service_arguments")
        else {"reason": form.cleaned_data["reason"]}
    )
    actor = actor_of(request)
    done, skipped, refused = 0, 0, []
    for seal in seals:
        if seal_action_refusal(action=action, status=seal.status):
            skipped += 1
            continue
        try:
            spec.service(seal=seal, actor=actor, **arguments)
        except DomainError as exc:  # changed meanwhile, or a date the seal cannot take
            refused.append(f"{seal.member.display_name} ({seal.programme.name}): {exc.detail}")
        else:
            done += 1
    messages.success(
        request,
        ngettext(
            "%(verb)s: %(done)d seal changed, %(skipped)d left alone.",
            "%(verb)s: %(done)d seals changed, %(skipped)d left alone.",
            done,
        )
        % {"verb": spec.verb, "done": done, "skipped": skipped},
    )
    for line in refused:
        messages.error(request, _("Not changed: %(line)s") % {"line": line})
    return redirect("console:members")
