"""An issuer's single sign-on: the OpenID Connect identity provider its staff sign in with.

Set by the issuer's owner in the console (console.sso); each change is a line of the account
log. Who may then sign in through it is console.sso's adapter's decision: staff already invited,
by verified e-mail, never a new account.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from config.errors import InvalidInputError
from issuers.models import IdentityProvider, Issuer
from issuers.staff import audit_record


@dataclass(frozen=True)
class IdentityProviderInput:
    name: str
    server_url: str
    client_id: str
    client_secret: str  # empty: keep the stored one
    enabled: bool


@transaction.atomic
def identity_provider_set(
    *, issuer: Issuer, data: IdentityProviderInput, actor: str
) -> IdentityProvider:
    """Create or update the issuer's identity provider. A new one needs a secret."""
    provider = IdentityProvider.objects.filter(issuer=issuer).first()
    created = provider is None
    if provider is None:
        if not data.client_secret:
            raise InvalidInputError("client_secret", "A client secret is needed.")
        provider = IdentityProvider(issuer=issuer)
    provider.name = data.name
    provider.server_url = data.server_url.rstrip("/")
    provider.client_id = data.client_id
    if data.client_secret:
        provider.client_secret = data.client_secret
    provider.enabled = data.enabled
    provider.save()
    audit_record(
        issuer=issuer,
        actor=actor,
        action="sso.created" if created else "sso.changed",
        target=provider.server_url,
        # Never the secret: only whether it was replaced.
        data={"enabled": data.enabled, "secret_replaced": bool(data.client_secret)},
    )
    return provider


@transaction.atomic
def identity_provider_delete(*, issuer: Issuer, actor: str) -> None:
    deleted, _ = IdentityProvider.objects.filter(issuer=issuer).delete()
    if deleted:
        audit_record(issuer=issuer, actor=actor, action="sso.deleted")
