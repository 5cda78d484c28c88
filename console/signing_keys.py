"""Signing keys, for owners: the issuer's keys, rotation, revocation behind a confirmation that
says what stops verifying. Both changes are behind allauth's re-authentication (a password or
second factor within the last few minutes): they change what every verifier trusts.

The rules are ``seals.keys`` (``signing_key_rotate``, ``signing_key_revoke``), as the API's."""

from __future__ import annotations

from allauth.account.decorators import reauthentication_required
from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config.errors import DomainError
from console.access import StaffRequest, actor_of, staff_view
from issuers.models import StaffRole
from issuers.staff import audit_record
from seals import keys
from seals.models import SigningKey

OWNER_ONLY = {"read": StaffRole.OWNER, "write": StaffRole.OWNER}


class RotateForm(forms.Form):
    algorithm = forms.ChoiceField(
        label=gettext_lazy("Algorithm of the new key"),
        choices=[
            ("", gettext_lazy("the same as the active key")),
            (SigningKey.Algorithm.ES256, SigningKey.Algorithm.ES256.label),
            (SigningKey.Algorithm.RS256, SigningKey.Algorithm.RS256.label),
            (SigningKey.Algorithm.EDDSA, SigningKey.Algorithm.EDDSA.label),
        ],
        required=False,
    )


def _page(request: StaffRequest, form: RotateForm, *, status: int = 200) -> HttpResponse:
    rows = [
        (key, keys.key_kid(key))
        for key in SigningKey.objects.filter(issuer=request.issuer).order_by("state", "-created_at")
    ]
    return render(
        request,
        "console/signing_keys.html",
        {"rows": rows, "form": form, "jwks_url": _jwks_path(request)},
        status=status,
    )


def _jwks_path(request: StaffRequest) -> str:
    return f"/issuers/{request.issuer.slug}/jwks.json"


@staff_view(**OWNER_ONLY)
@reauthentication_required(allow_get=True)  # reading the list needs no fresh password
def signing_keys(request: StaffRequest) -> HttpResponse:
    """The list (GET) and a rotation (POST)."""
    if request.method != "POST":
        return _page(request, RotateForm())
    form = RotateForm(request.POST)
    if not form.is_valid():
        return _page(request, form, status=400)
    try:
        with transaction.atomic():
            key = keys.signing_key_rotate(
                issuer=request.issuer, algorithm=form.cleaned_data["algorithm"] or None
            )
            audit_record(
                issuer=request.issuer,
                actor=actor_of(request),
                action="signing_key.rotated",
                target=key.key_id,
                data={"algorithm": key.algorithm},
            )
    except DomainError as exc:
        form.add_error(None, exc.detail)
        return _page(request, form, status=exc.status_code)
    messages.success(
        request,
        _("New key %(key)s signs from now on; the one it replaces stays published.")
        % {"key": key.key_id},
    )
    return redirect("console:signing-keys")


@staff_view(**OWNER_ONLY)
@reauthentication_required  # before the confirmation page too, so its button just works
def signing_key_revoke(request: StaffRequest, pk: int) -> HttpResponse:
    """A confirmation page (GET) spelling out what stops verifying, then the revocation."""
    key = get_object_or_404(SigningKey, pk=pk, issuer=request.issuer)
    context = {
        "key": key,
        "kid": keys.key_kid(key),
        "jwks_url": _jwks_path(request),
        "is_active": key.state == SigningKey.State.ACTIVE,
        "is_data_integrity": key.algorithm == SigningKey.Algorithm.EDDSA,
    }
    if key.state == SigningKey.State.REVOKED:
        return render(request, "console/signing_key_revoke.html", context, status=409)
    if request.method != "POST":
        return render(request, "console/signing_key_revoke.html", context)
    try:
        with transaction.atomic():
            keys.signing_key_revoke(key=key)
            audit_record(
                issuer=request.issuer,
                actor=actor_of(request),
                action="signing_key.revoked",
                target=key.key_id,
                data={"algorithm": key.algorithm},
            )
    except DomainError as exc:
        messages.error(request, exc.detail)
        return redirect("console:signing-keys")
    messages.success(request, _("Key %(key)s revoked.") % {"key": key.key_id})
    return redirect("console:signing-keys")
