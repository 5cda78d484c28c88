"""API keys, for owners: list, create (the key is shown once, in the answer to the POST, and
never stored in plain), revoke. Creating and revoking are behind allauth's re-authentication."""

from __future__ import annotations

from allauth.account.decorators import reauthentication_required
from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from config.errors import DomainError
from console.access import StaffRequest, actor_of, staff_view
from console.words import translated_choices
from issuers import services
from issuers.models import ApiKey, StaffRole
from issuers.staff import audit_record
from issuers.text import validate_single_line_text

OWNER_ONLY = {"read": StaffRole.OWNER, "write": StaffRole.OWNER}


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name"), max_length=100, validators=[validate_single_line_text]
    )
    scopes = forms.MultipleChoiceField(
        label=gettext_lazy("Scopes"),
        choices=translated_choices(ApiKey.Scope.choices),
        initial=[ApiKey.Scope.READ, ApiKey.Scope.WRITE],
        widget=forms.CheckboxSelectMultiple,
    )


def _page(request: StaffRequest, form: ApiKeyForm, *, plaintext: str = "", status: int = 200):
    keys = ApiKey.objects.filter(issuer=request.issuer).order_by("revoked_at", "-created_at")
    return render(
        request,
        "console/keys.html",
        {"keys": keys, "form": form, "plaintext": plaintext},
        status=status,
    )


@staff_view(**OWNER_ONLY)
@reauthentication_required(allow_get=True)  # a new key acts for the issuer: password first
@never_cache  # the answer that shows a new key must not be kept by any cache
def api_keys(request: StaffRequest) -> HttpResponse:
    if request.method != "POST":
        return _page(request, ApiKeyForm())
    form = ApiKeyForm(request.POST)
    if not form.is_valid():
        return _page(request, form, status=400)
    try:
        with transaction.atomic():
            new = services.apikey_create(
                issuer=request.issuer,
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
            )
            audit_record(
                issuer=request.issuer,
                actor=actor_of(request),
                action="api_key.created",
                target=new.api_key.name,
                data={"prefix": new.api_key.prefix, "scopes": new.api_key.scopes},
            )
    except DomainError as exc:
        form.add_error(None, exc.detail)
        return _page(request, form, status=exc.status_code)
    # Shown here, once: not through a redirect, which would have to keep it in the session.
    return _page(request, ApiKeyForm(), plaintext=new.plaintext)


@staff_view(**OWNER_ONLY)
@require_POST
@reauthentication_required
def api_key_revoke(request: StaffRequest, pk: int) -> HttpResponse:
    # ApiKey is not an issuer-scoped model: the issuer filter here is the tenant wall.
    key = get_object_or_404(ApiKey, pk=pk, issuer=request.issuer)
    with transaction.atomic():
        services.apikey_revoke(api_key=key)
        audit_record(
            issuer=request.issuer,
            actor=actor_of(request),
            action="api_key.revoked",
            target=key.name,
            data={"prefix": key.prefix},
        )
    messages.success(request, _("Key %(name)s revoked.") % {"name": key.name})
    return redirect("console:keys")
