"""Single sign-on for an issuer's staff through the issuer's own OpenID Connect or SAML provider.

allauth's ``openid_connect`` provider does that protocol (discovery, the authorization code, the
token and userinfo calls), and its ``saml`` provider (python3-saml over xmlsec) the other: the
AuthnRequest, and at the ACS the response's signature, audience, destination, validity window
and InResponseTo. What is ours:

- ``SocialAccountAdapter.list_apps``: allauth's apps are built from ``IdentityProvider`` and
  ``SamlIdentityProvider`` rows (one of each per issuer at most; the OIDC secret encrypted at
  rest), not kept in allauth's SocialApp table, where the secret would sit in clear. The
  provider ids are ``issuer-<id>`` (OIDC) and ``issuer-<id>-saml``; SAML's URLs name the
  issuer as ``issuer-<id>`` (allauth's "organization slug", the app's client id).
- an issuer may have both: an organisation moving from one protocol to the other keeps both
  for a while; each links its own accounts (by its own subject), and the start page offers each.
- who may sign in (``pre_social_login``): a person already on the staff of the issuer whose
  provider vouched for them, matched by an e-mail address the provider says it verified.
  Nobody is ever made staff by signing in: an identity provider proves who someone is, not
  that the issuer invited them (an IdP often holds every employee, contractors, test accounts).
  Staff come from an owner's invitation only; an unknown or unverified address is refused.
- the pages: the owner's settings (``/console/sso/``) and the start page (``/console/sso/start/``)
  where a person names their organisation. The sign-in page does not list providers: that list
  would name every issuer using single sign-on to anyone.

"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialApp, SocialLogin
from django import forms
from django.contrib import messages
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from config.errors import DomainError
from config.tenancy import scopes_disabled
from console.access import StaffRequest, actor_of, staff_view
from console.forms import add_service_error
from issuers.identity import (
    IdentityProviderInput,
    SamlProviderInput,
    identity_provider_delete,
    identity_provider_set,
    saml_certificate_parse,
    saml_provider_delete,
    saml_provider_set,
)
from issuers.models import IdentityProvider, Issuer, SamlIdentityProvider, StaffMember, StaffRole

if TYPE_CHECKING:  # a type of the stubs only
    from django_stubs_ext import StrOrPromise

PROVIDER_PREFIX = "issuer-"
SAML_SUFFIX = "-saml"
# An e-mail NameID: what allauth reads the address from when no attribute carries it.
NAMEID_EMAIL = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"


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


def _saml_app_of(provider: SamlIdentityProvider) -> SocialApp:
    from allauth.socialaccount.providers.saml.provider import SAMLProvider

    mapping: dict[str, list[str]] = dict(SAMLProvider.default_attribute_mapping)
    if provider.email_attribute:
        mapping["email"] = [provider.email_attribute]
    # Whether an address is verified is the adapter's decision, never an IdP attribute.
    mapping.pop("email_verified", None)
    return SocialApp(
        provider="saml",
        provider_id=provider.provider_id,
        name=provider.name,
        client_id=provider.organization_slug,
        settings={
            "idp": {
                "entity_id": provider.entity_id,
                "sso_url": provider.sso_url,
                "x509cert": provider.x509cert,
            },
            "attribute_mapping": mapping,
            "advanced": {
                "strict": True,
                # The assertion itself signed, not only the envelope around it: a signed
                # Response can be made to wrap an assertion nobody signed.
                "want_assertion_signed": True,
                # Sign-in starts here only: an unsolicited response has no InResponseTo to
                # tie it to a browser that asked, so a stolen one could be replayed.
                "reject_idp_initiated_sso": True,
                "name_id_format": NAMEID_EMAIL,
            },
        },
    )


def _issuer_id_of(provider_id: str) -> int | None:
    number = provider_id.removeprefix(PROVIDER_PREFIX).removesuffix(SAML_SUFFIX)
    return int(number) if provider_id.startswith(PROVIDER_PREFIX) and number.isdigit() else None


def _is_saml(provider_id: str) -> bool:
    return provider_id.endswith(SAML_SUFFIX)


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def list_apps(
        self, request: HttpRequest, provider: Any = None, client_id: Any = None
    ) -> list[SocialApp]:
        # Sign-in happens before anyone's issuer is known: a lookup across issuers. allauth
        # asks by protocol ("openid_connect", "saml"), by provider id, or by client id (for
        # SAML, the issuer named in the URL).
        name = str(provider) if provider else ""
        issuer_id = _issuer_id_of(name)
        if name and issuer_id is None and name not in ("openid_connect", "saml"):
            return []
        apps: list[SocialApp] = []
        with scopes_disabled():
            if name in ("", "openid_connect") or (issuer_id and not _is_saml(name)):
                oidc = IdentityProvider.objects.filter(enabled=True)
                if issuer_id:
                    oidc = oidc.filter(issuer_id=issuer_id)
                if client_id:
                    oidc = oidc.filter(client_id=client_id)
                apps += [_app_of(row) for row in oidc]
            if name in ("", "saml") or (issuer_id and _is_saml(name)):
                saml = SamlIdentityProvider.objects.filter(enabled=True)
                if issuer_id:
                    saml = saml.filter(issuer_id=issuer_id)
                if client_id:
                    slug_issuer = _issuer_id_of(str(client_id))
                    if slug_issuer is None:
                        return apps
                    saml = saml.filter(issuer_id=slug_issuer)
                apps += [_saml_app_of(row) for row in saml]
        return apps

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
    is verified too (the invitation was accepted from it).

    SAML has no "verified" claim: the IdP's signed assertion of the address is its word for
    it. That word is taken only from the issuer's own IdP: the SAML app allauth checked the
    response with was built from this issuer's row alone (its certificate, its entity id, an
    audience and destination naming this issuer's ACS), so no other issuer's IdP, nor one
    signing with another key, gets this far."""
    from allauth.account.models import EmailAddress

    asserted = _is_saml(sociallogin.account.provider)
    addresses = {a.email.lower() for a in sociallogin.email_addresses if a.verified or asserted}
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
    callback = (
        request.build_absolute_uri(f"/console/accounts/oidc/{current.provider_id}/login/callback/")
        if current
        else ""
    )
    return _provider_settings(
        request,
        current,
        _OIDC_PAGE,
        save=lambda data: identity_provider_set(
            issuer=request.issuer, data=IdentityProviderInput(**data), actor=actor_of(request)
        ),
        delete=lambda: identity_provider_delete(issuer=request.issuer, actor=actor_of(request)),
        context={"callback": callback},
    )


class SamlProviderForm(forms.Form):
    name = forms.CharField(label=_("Name on the sign-in button"), max_length=100)
    entity_id = forms.CharField(
        label=_("Identity provider entity ID"),
        max_length=500,
        help_text=_("The Issuer of its assertions, as its metadata states it."),
    )
    sso_url = forms.URLField(
        label=_("Single sign-on URL"),
        max_length=500,
        assume_scheme="https",
        help_text=_("Its HTTP-Redirect single sign-on service."),
    )
    x509cert = forms.CharField(
        label=_("Signing certificate"),
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("PEM, as the provider gives it for download. It is public, not a secret."),
    )
    email_attribute = forms.CharField(
        label=_("E-mail attribute"),
        max_length=255,
        required=False,
        help_text=_(
            "Leave empty for the standard ones (mail, emailaddress), then a NameID "
            "in e-mail format."
        ),
    )
    enabled = forms.BooleanField(label=_("Staff may sign in with it"), required=False)

    def clean_x509cert(self) -> str:
        # The service refuses it too (issuers.identity); checked here for words in the
        # person's language.
        text = self.cleaned_data["x509cert"]
        try:
            saml_certificate_parse(text)
        except DomainError:
            raise forms.ValidationError(
                _("This is not an X.509 certificate in PEM form.")
            ) from None
        return text

    def clean_sso_url(self) -> str:
        url = self.cleaned_data["sso_url"]
        if not url.startswith("https://"):
            raise forms.ValidationError(_("The single sign-on URL must use https."))
        return url


@staff_view(read=StaffRole.OWNER, write=StaffRole.OWNER)
def sso_saml_settings(request: StaffRequest) -> HttpResponse:
    current = SamlIdentityProvider.objects.filter(issuer=request.issuer).first()
    slug = SamlIdentityProvider(issuer=request.issuer).organization_slug
    # What the owner registers with their IdP: the metadata URL is also the SP's entity id.
    urls = {
        "metadata": request.build_absolute_uri(reverse("saml_metadata", args=[slug])),
        "acs": request.build_absolute_uri(reverse("saml_acs", args=[slug])),
    }
    return _provider_settings(
        request,
        current,
        _SAML_PAGE,
        save=lambda data: saml_provider_set(
            issuer=request.issuer, data=SamlProviderInput(**data), actor=actor_of(request)
        ),
        delete=lambda: saml_provider_delete(issuer=request.issuer, actor=actor_of(request)),
        context={"urls": urls},
    )


@dataclass(frozen=True)
class _ProviderPage:
    """What differs between the OIDC and the SAML settings pages; the flow is one."""

    form: type[forms.Form]
    template: str
    url_name: str
    saved: StrOrPromise
    removed: StrOrPromise


_OIDC_PAGE = _ProviderPage(
    form=IdentityProviderForm,
    template="console/sso.html",
    url_name="console:sso",
    saved=_("Single sign-on saved."),
    removed=_("Single sign-on removed."),
)
_SAML_PAGE = _ProviderPage(
    form=SamlProviderForm,
    template="console/sso_saml.html",
    url_name="console:sso-saml",
    saved=_("SAML single sign-on saved."),
    removed=_("SAML single sign-on removed."),
)


def _provider_settings(
    request: StaffRequest,
    current: IdentityProvider | SamlIdentityProvider | None,
    page: _ProviderPage,
    *,
    save: Callable[[dict[str, Any]], object],
    delete: Callable[[], object],
    context: dict[str, Any],
) -> HttpResponse:
    """Show, save or remove one kind of identity provider; the services hold every rule."""
    status = 200
    if request.method == "POST" and "delete" in request.POST:
        delete()
        messages.success(request, page.removed)
        return redirect(page.url_name)
    if request.method == "POST":
        form = page.form(request.POST)
        status = 400
        if form.is_valid():
            try:
                save(form.cleaned_data)
            except DomainError as exc:
                add_service_error(form, exc)
            else:
                messages.success(request, page.saved)
                return redirect(page.url_name)
    else:
        # The stored provider as the form shows it; the OIDC secret is never shown back.
        initial = (
            {
                name: getattr(current, name)
                for name in page.form.base_fields
                if name != "client_secret"
            }
            if current
            else {"enabled": True}
        )
        form = page.form(initial=initial)
    return render(
        request, page.template, {"form": form, "current": current, **context}, status=status
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
    provider = saml = None
    status = 200
    if form.is_bound:
        if form.is_valid():
            with scopes_disabled():
                issuer = Issuer.objects.filter(slug=form.cleaned_data["organisation"]).first()
                if issuer:
                    provider = IdentityProvider.objects.filter(issuer=issuer, enabled=True).first()
                    saml = SamlIdentityProvider.objects.filter(issuer=issuer, enabled=True).first()
            if provider is None and saml is None:
                status = 404
                form.add_error(
                    "organisation", _("No organisation by that name signs in with single sign-on.")
                )
        else:
            status = 400
    return render(
        request,
        "console/sso_start.html",
        {"form": form, "provider": provider, "saml": saml},
        status=status,
    )
