"""allauth's hooks for the console: sign-up by invitation only."""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from django import forms
from django.http import HttpRequest
from django.utils.translation import gettext as _

from config.client_ip import client_ip
from config.errors import DomainError
from issuers.models import Invitation
from issuers.staff import invitation_for_token

# The invitation a visitor arrived with (console.views.staff.join), kept for the sign-up.
INVITATION_SESSION_KEY = "console_invitation"


def pending_invitation(request: HttpRequest) -> Invitation | None:
    token = request.session.get(INVITATION_SESSION_KEY) if hasattr(request, "session") else None
    if not token:
        return None
    try:
        return invitation_for_token(token)
    except DomainError:
        return None


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        # Staff are invited by an owner; an open sign-up would only make accounts with no issuer.
        return pending_invitation(request) is not None

    def clean_email(self, email: str) -> str:
        email = super().clean_email(email)
        invitation = pending_invitation(self.request) if self.request else None
        if invitation is not None and email.lower() != invitation.email:
            raise forms.ValidationError(
                _("This invitation is for %(email)s: sign up with that address.")
                % {"email": invitation.email}
            )
        return email

    def get_client_ip(self, request: HttpRequest) -> str:
        # The platform's one reading of the client address (TRUSTED_PROXY_COUNT), so the
        # sign-in rate limits count per client behind the edge, not per proxy.
        address = client_ip(request)
        if address is None:
            return super().get_client_ip(request)
        return str(address)
