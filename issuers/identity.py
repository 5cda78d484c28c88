"""An issuer's single sign-on: the OpenID Connect and/or SAML identity provider its staff sign
in with.

Set by the issuer's owner in the console (console.sso); each change is a line of the account
log. Who may then sign in through it is console.sso's adapter's decision: staff already invited,
by verified e-mail, never a new account.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from django.db import transaction

from config.errors import InvalidInputError
from issuers.models import IdentityProvider, Issuer, SamlIdentityProvider
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


@dataclass(frozen=True)
class SamlProviderInput:
    name: str
    entity_id: str
    sso_url: str
    x509cert: str  # PEM, or its base64 body alone as IdP metadata shows it
    email_attribute: str  # empty: the standard attributes, then an e-mail NameID
    enabled: bool


def saml_certificate_parse(text: str) -> x509.Certificate:
    """The IdP's signing certificate from what an owner pastes: a PEM block, or the bare
    base64 of an IdP's metadata <ds:X509Certificate>. Anything else is refused here, so a
    garbled paste fails on the settings page rather than at every sign-in."""
    body = text.strip()
    if "-----BEGIN" not in body:
        base64_body = "".join(body.split())
        body = f"-----BEGIN CERTIFICATE-----\n{base64_body}\n-----END CERTIFICATE-----"
    try:
        return x509.load_pem_x509_certificate(body.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raise InvalidInputError(
            "x509cert", "This is not an X.509 certificate in PEM form."
        ) from None


@transaction.atomic
def saml_provider_set(
    *, issuer: Issuer, data: SamlProviderInput, actor: str
) -> SamlIdentityProvider:
    """Create or update the issuer's SAML identity provider."""
    certificate = saml_certificate_parse(data.x509cert)
    provider = SamlIdentityProvider.objects.filter(issuer=issuer).first()
    created = provider is None
    if provider is None:
        provider = SamlIdentityProvider(issuer=issuer)
    provider.name = data.name
    provider.entity_id = data.entity_id.strip()
    provider.sso_url = data.sso_url
    provider.x509cert = certificate.public_bytes(Encoding.PEM).decode("ascii")
    provider.email_attribute = data.email_attribute.strip()
    provider.enabled = data.enabled
    provider.save()
    audit_record(
        issuer=issuer,
        actor=actor,
        action="sso.saml.created" if created else "sso.saml.changed",
        target=provider.entity_id,
        # The certificate by its fingerprint: enough to tell a rotation in the log.
        data={
            "enabled": data.enabled,
            "certificate_sha256": certificate.fingerprint(hashes.SHA256()).hex(),
        },
    )
    return provider


@transaction.atomic
def saml_provider_delete(*, issuer: Issuer, actor: str) -> None:
    deleted, _ = SamlIdentityProvider.objects.filter(issuer=issuer).delete()
    if deleted:
        audit_record(issuer=issuer, actor=actor, action="sso.saml.deleted")
