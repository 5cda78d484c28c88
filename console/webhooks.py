"""Webhooks, for owners: endpoints (the signing secret shown once, on creation), switching one
off and on, a test delivery, and each endpoint's delivery log. The services are effects'."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from config.errors import DomainError
from console.access import StaffRequest, actor_of, staff_view
from console.forms import add_service_error
from effects import webhooks
from issuers.events import EVENT_TYPES
from issuers.models import StaffRole, WebhookEndpoint
from issuers.staff import audit_record

OWNER_ONLY = {"read": StaffRole.OWNER, "write": StaffRole.OWNER}
DELIVERIES_SHOWN = 50


class EndpointForm(forms.Form):
    url = forms.URLField(label=gettext_lazy("URL"), max_length=500, assume_scheme="https")
    event_types = forms.MultipleChoiceField(
        label=gettext_lazy("Events"),
        choices=[(t, t) for t in EVENT_TYPES],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("None ticked: every event."),
    )


def _log(request: StaffRequest, action: str, endpoint: WebhookEndpoint) -> None:
    audit_record(
        issuer=request.issuer,
        actor=actor_of(request),
        action=action,
        target=endpoint.url,
        data={"endpoint": endpoint.pk, "event_types": endpoint.event_types},
    )


@staff_view(**OWNER_ONLY)
@never_cache  # the answer to a creation shows the signing secret
def endpoints(request: StaffRequest) -> HttpResponse:
    form = EndpointForm(request.POST or None)
    secret = ""
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                with transaction.atomic():
                    new = webhooks.webhook_endpoint_create(
                        issuer=request.issuer,
                        url=form.cleaned_data["url"],
                        event_types=form.cleaned_data["event_types"],
                    )
                    _log(request, "webhook.created", new.endpoint)
            except (DomainError, ValidationError) as exc:
                add_service_error(form, exc)
                status = getattr(exc, "status_code", 400)
            else:
                # Shown in this answer only, as the API shows it once.
                secret, form, status = new.secret, EndpointForm(), 200
    rows = WebhookEndpoint.objects.order_by("-created_at")
    return render(
        request,
        "console/webhooks.html",
        {"endpoints": rows, "form": form, "secret": secret},
        status=status,
    )


@staff_view(**OWNER_ONLY)
def endpoint_detail(request: StaffRequest, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    deliveries = endpoint.deliveries.order_by("-created_at")[:DELIVERIES_SHOWN]
    return render(request, "console/webhook.html", {"endpoint": endpoint, "deliveries": deliveries})


@staff_view(**OWNER_ONLY)
@require_POST
def endpoint_toggle(request: StaffRequest, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    with transaction.atomic():
        webhooks.webhook_endpoint_update(endpoint=endpoint, active=not endpoint.active)
        _log(
            request, "webhook.switched_on" if endpoint.active else "webhook.switched_off", endpoint
        )
    messages.success(
        request, _("Endpoint switched on.") if endpoint.active else _("Endpoint switched off.")
    )
    return redirect("console:webhook", pk=endpoint.pk)


@staff_view(**OWNER_ONLY)
@require_POST
def endpoint_test(request: StaffRequest, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    with transaction.atomic():
        webhooks.webhook_endpoint_test(endpoint=endpoint)
        _log(request, "webhook.tested", endpoint)
    messages.success(request, _("Test delivery queued; it shows below once sent."))
    return redirect("console:webhook", pk=endpoint.pk)
