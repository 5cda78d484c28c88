"""Single sign-on for an issuer's staff through the issuer's own OpenID Connect provider.

allauth's ``openid_connect`` provider does the protocol (discovery, the authorization code, the
token and userinfo calls). What is ours:

- ``SocialAccountAdapter.list_apps``: allauth's apps are built from ``IdentityProvider`` rows
  (one per issuer, its secret encrypted at rest), not kept in allauth's SocialApp table, where
  the secret would sit in clear. The provider id is ``issuer-<id>``.
- who may sign in (``pre_social_login``): a person already on the staff of the issuer whose
  provider vouched for them, matched by an e-mail address the provider says it verified.
  Nobody is ever made staff by signing in: an identity provider proves who someone is, not
  that the issuer invited them (an IdP often holds every employee, contractors, test accounts).
  Staff come from an owner's invitation only; an unknown or unverified address is refused.
- the pages: the owner's settings (``/console/sso/``) and the start page (``/console/sso/start/``)
  where a person names their organisation. The sign-in page does not list providers: that list
  would name every issuer using single sign-on to anyone.

SAML is not offered: allauth's ``saml`` provider needs python3-saml and its xmlsec binding (a
compiled extension over libxmlsec1, absent from the product's image), which the product
neither depends on nor tests; OpenID Connect covers the common identity providers.
"""

from __future__ import annotations

from typing import Any

from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialApp, SocialLogin
from django import forms
from django.contrib import messages
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _

from config.errors import DomainError
from config.tenancy import scopes_disabled
from console.access import StaffRequest, actor_of, staff_view
from console.forms import add_service_error
from issuers.identity import IdentityProviderInput, identity_provider_delete, identity_provider_set
from issuers.models import IdentityProvider, Issuer, StaffMember, StaffRole

PROVIDER_PREFIX = "issuer-"


def _app_of(provider: IdentityProvider) -> SocialApp:
    # An unsaved SocialApp, as allauth builds those configured in settings.
    return SocialApp(
        provider="openid_connect",
        provider_id=provider.provider_id,
        name=provider.name,
        client_id=provider.client_id,
        secret=provider.client_secret,
        settings={"server_url": provider.server_url},
    )


def _issuer_id_of(provider_id: str) -> int | None:
    number = provider_id.removeprefix(PROVIDER_PREFIX)
    return int(number) if provider_id.startswith(PROVIDER_PREFIX) and number.isdigit() else None


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def list_apps(
        self, request: HttpRequest, provider: Any = None, client_id: Any = None
    ) -> list[SocialApp]:
        # Sign-in happens before anyone's issuer is known: a lookup across issuers.
        with scopes_disabled():
            rows = IdentityProvider.objects.filter(enabled=True).select_related("issuer")
            if provider and provider != "openid_connect":
                issuer_id = _issuer_id_of(str(provider))
                if issuer_id is None:
                    return []
                rows = rows.filter(issuer_id=issuer_id)
            if client_id:
                rows = rows.filter(client_id=client_id)
            return [_app_of(row) for row in rows]

    def is_open_for_signup(self, request: HttpRequest, sociallogin: SocialLogin) -> bool:
        return False  # see pre_social_login: staff are invited, never made by signing in

    def pre_social_login(self, request: HttpRequest, sociallogin: SocialLogin) -> None:
        issuer_id = _issuer_id_of(sociallogin.account.provider)
        staff = None
        if issuer_id is not None:
            if sociallogin.is_existing:
                staff = _staff_of(issuer_id, user_id=sociallogin.user.pk)
            else:
                staff = _staff_by_verified_email(issuer_id, sociallogin)
        if staff is None:
            raise ImmediateHttpResponse(render(request, "console/sso_refused.html", status=403))
        if not sociallogin.is_existing:
            # Linked once; later sign-ins find the account by the provider's subject.
            sociallogin.connect(request, staff.user)


def _staff_of(issuer_id: int, *, user_id: int) -> StaffMember | None:
    with scopes_disabled():
        return StaffMember.objects.filter(issuer_id=issuer_id, user_id=user_id).first()


def _staff_by_verified_email(issuer_id: int, sociallogin: SocialLogin) -> StaffMember | None:
    """The issuer's staff member whose address the provider verified. Both sides verified:
    the provider says it checked the address, and allauth's record of the person's address
    is verified too (the invitation was accepted from it)."""
    from allauth.account.models import EmailAddress

    addresses = {a.email.lower() for a in sociallogin.email_addresses if a.verified}
    if not addresses:
        return None
    same_address = Q()
    for address in addresses:
        same_address |= Q(email__iexact=address)
    user_ids = EmailAddress.objects.filter(same_address, verified=True).values_list(
        "user_id", flat=True
    )
    with scopes_disabled():
        return (
            StaffMember.objects.filter(issuer_id=issuer_id, user_id__in=list(user_ids))
            .select_related("user")
            .first()
        )


# --- pages ----------------------------------------------------------------------------------


class IdentityProviderForm(forms.Form):
    name = forms.CharField(label=_("Name on the sign-in button"), max_length=100)
    server_url = forms.URLField(
        label=_("Issuer URL"),
        max_length=500,
        assume_scheme="https",
        help_text=_("The provider's issuer; its /.well-known/openid-configuration is read."),
    )
    client_id = forms.CharField(label=_("Client ID"), max_length=255)
    client_secret = forms.CharField(
        label=_("Client secret"),
        required=False,
        max_length=1000,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Stored encrypted. Leave empty to keep the current one."),
    )
    enabled = forms.BooleanField(label=_("Staff may sign in with it"), required=False)

    def clean_server_url(self) -> str:
        url = self.cleaned_data["server_url"]
        if not url.startswith("https://"):
            raise forms.ValidationError(_("The issuer URL must use https."))
        return url


@staff_view(read=StaffRole.OWNER, write=StaffRole.OWNER)
def sso_settings(request: StaffRequest) -> HttpResponse:
    current = IdentityProvider.objects.filter(issuer=request.issuer).first()
    status = 200
    if request.method == "POST" and "delete" in request.POST:
        identity_provider_delete(issuer=request.issuer, actor=actor_of(request))
        messages.success(request, _("Single sign-on removed."))
        return redirect("console:sso")
    if request.method == "POST":
        form = IdentityProviderForm(request.POST)
        status = 400
        if form.is_valid():
            try:
                identity_provider_set(
                    issuer=request.issuer,
                    data=IdentityProviderInput(**form.cleaned_data),
                    actor=actor_of(request),
                )
            except DomainError as exc:
                add_service_error(form, exc)
            else:
                messages.success(request, _("Single sign-on saved."))
                return redirect("console:sso")
    else:
        initial = (
            {
                "name": current.name,
                "server_url": current.server_url,
                "client_id": current.client_id,
                "enabled": current.enabled,
            }
            if current
            else {"enabled": True}
        )
        form = IdentityProviderForm(initial=initial)
    callback = (
        request.build_absolute_uri(f"/console/accounts/oidc/{current.provider_id}/login/callback/")
        if current
        else ""
    )
    return render(
        request,
        "console/sso.html",
        {"form": form, "current": current, "callback": callback},
        status=status,
    )


class StartForm(forms.Form):
    organisation = forms.SlugField(
        label=_("Your organisation's short name"),
        max_length=100,
        help_text=_("As in its console address; your administrator can tell you."),
    )


def sso_start(request: HttpRequest) -> HttpResponse:
    """Open to anyone (not signed in yet): find the organisation's provider, then a button
    that starts allauth's flow (a POST, as allauth asks, so a link cannot start it)."""
    form = StartForm(request.GET or None)
    provider = None
    status = 200
    if form.is_bound:
        if form.is_valid():
            with scopes_disabled():
                issuer = Issuer.objects.filter(slug=form.cleaned_data["organisation"]).first()
                provider = (
                    IdentityProvider.objects.filter(issuer=issuer, enabled=True).first()
                    if issuer
                    else None
                )
            if provider is None:
                status = 404
                form.add_error(
                    "organisation", _("No organisation by that name signs in with single sign-on.")
                )
        else:
            status = 400
    return render(
        request, "console/sso_start.html", {"form": form, "provider": provider}, status=status
    )
