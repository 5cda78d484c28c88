"""Single sign-on through an issuer's own SAML identity provider: configured by the owner,
signing in invited staff matched by the e-mail the IdP's signed assertion carries, refusing
anyone else. The IdP is a fake: a self-signed key signs the responses built here, posted to the
ACS as a browser would after the IdP's page."""

from __future__ import annotations

import base64
import datetime as dt
import re
import uuid
from urllib.parse import parse_qs, urlparse

import pytest
from allauth.socialaccount.models import SocialAccount
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.test import Client
from django.urls import reverse
from onelogin.saml2.constants import OneLogin_Saml2_Constants
from onelogin.saml2.utils import OneLogin_Saml2_Utils

from issuers.identity import SamlProviderInput, saml_provider_set
from issuers.models import AuditEntry, SamlIdentityProvider

HOST = "console.example"  # python3-saml refuses single-label hosts such as "testserver"
IDP_ENTITY = "https://idp.a.example/saml"
IDP_SSO = "https://idp.a.example/saml/sso"
EMAIL_NAMEID = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"


class FakeIdp:
    def __init__(self, entity_id: str = IDP_ENTITY) -> None:
        self.entity_id = entity_id
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Fake IdP")])
        now = dt.datetime.now(dt.UTC)
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .sign(self.key, hashes.SHA256())
        )

    @property
    def cert_pem(self) -> str:
        return self.cert.public_bytes(serialization.Encoding.PEM).decode()

    @property
    def key_pem(self) -> str:
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()

    def response(
        self,
        *,
        email: str,
        acs: str,
        audience: str,
        in_response_to: str,
        attributes: dict[str, str] | None = None,
    ) -> str:
        """A Response with one signed Assertion for ``email`` (NameID in e-mail format)."""
        attributes = attributes or {"urn:oid:2.5.4.42": "Pat"}
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)

        def at(delta: int) -> str:
            return (now + dt.timedelta(minutes=delta)).strftime("%Y-%m-%dT%H:%M:%SZ")

        assertion_id = "_" + uuid.uuid4().hex
        assertion = "".join(
            [
                '<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"',
                f' ID="{assertion_id}" Version="2.0" IssueInstant="{at(0)}">',
                f"<saml:Issuer>{self.entity_id}</saml:Issuer>",
                "<saml:Subject>",
                f'<saml:NameID Format="{EMAIL_NAMEID}">{email}</saml:NameID>',
                '<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">',
                f'<saml:SubjectConfirmationData NotOnOrAfter="{at(5)}" Recipient="{acs}"',
                f' InResponseTo="{in_response_to}"/>',
                "</saml:SubjectConfirmation></saml:Subject>",
                f'<saml:Conditions NotBefore="{at(-1)}" NotOnOrAfter="{at(5)}">',
                "<saml:AudienceRestriction>",
                f"<saml:Audience>{audience}</saml:Audience>",
                "</saml:AudienceRestriction></saml:Conditions>",
                f'<saml:AuthnStatement AuthnInstant="{at(0)}" SessionIndex="{assertion_id}">',
                "<saml:AuthnContext><saml:AuthnContextClassRef>",
                "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport",
                "</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>",
                "<saml:AttributeStatement>",
                *(
                    f'<saml:Attribute Name="{name}"><saml:AttributeValue>{value}'
                    "</saml:AttributeValue></saml:Attribute>"
                    for name, value in attributes.items()
                ),
                "</saml:AttributeStatement>",
                "</saml:Assertion>",
            ]
        )
        signed = OneLogin_Saml2_Utils.add_sign(
            assertion,
            self.key_pem,
            self.cert_pem,
            sign_algorithm=OneLogin_Saml2_Constants.RSA_SHA256,
            digest_algorithm=OneLogin_Saml2_Constants.SHA256,
        )
        signed_text = re.sub(r"^<\?xml[^>]*\?>\s*", "", signed.decode())
        return (
            f'<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
            f'xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_{uuid.uuid4().hex}" '
            f'Version="2.0" IssueInstant="{at(0)}" Destination="{acs}" '
            f'InResponseTo="{in_response_to}"><saml:Issuer>{self.entity_id}</saml:Issuer>'
            f'<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/>'
            f"</samlp:Status>{signed_text}</samlp:Response>"
        )


def configure(issuer, idp: FakeIdp, **changes) -> SamlIdentityProvider:
    data = {
        "name": "Acme SAML",
        "entity_id": idp.entity_id,
        "sso_url": IDP_SSO,
        "x509cert": idp.cert_pem,
        "email_attribute": "",
        "enabled": True,
        **changes,
    }
    return saml_provider_set(issuer=issuer, data=SamlProviderInput(**data), actor="test")


@pytest.fixture
def idp(world) -> FakeIdp:
    idp = FakeIdp()
    configure(world.issuer, idp)
    return idp


def urls_of(issuer) -> tuple[str, str]:
    slug = f"issuer-{issuer.pk}"
    return (
        f"http://{HOST}" + reverse("saml_acs", args=[slug]),
        f"http://{HOST}" + reverse("saml_metadata", args=[slug]),
    )


def start(client: Client, issuer) -> str:
    """Start the sign-in as the start page's button does; the AuthnRequest's id."""
    page = client.get(reverse("console:sso-start"), {"organisation": issuer.slug})
    assert "Continue with Acme SAML" in page.content.decode()
    response = client.post(reverse("saml_login", args=[f"issuer-{issuer.pk}"]))
    assert response.status_code == 302
    location = urlparse(response["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == IDP_SSO
    request_xml = OneLogin_Saml2_Utils.decode_base64_and_inflate(
        parse_qs(location.query)["SAMLRequest"][0]
    ).decode()
    acs, _ = urls_of(issuer)
    assert f'AssertionConsumerServiceURL="{acs}"' in request_xml
    return re.search(r'ID="([^"]+)"', request_xml).group(1)


def post_to_acs(client: Client, issuer, xml: str):
    acs, _ = urls_of(issuer)
    return client.post(
        acs.removeprefix(f"http://{HOST}"),
        {"SAMLResponse": base64.b64encode(xml.encode()).decode()},
        follow=True,
    )


def sign_in(world, signer: FakeIdp, *, email: str, issuer=None, attributes=None):
    issuer = issuer or world.issuer
    client = Client(HTTP_HOST=HOST)
    request_id = start(client, issuer)
    acs, audience = urls_of(issuer)
    xml = signer.response(
        email=email,
        acs=acs,
        audience=audience,
        in_response_to=request_id,
        attributes=attributes,
    )
    return client, post_to_acs(client, issuer, xml)


@pytest.fixture(autouse=True)
def _host(settings):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, HOST]


def test_a_staff_member_signs_in_through_the_idp_and_lands_on_the_dashboard(world, idp):
    client, response = sign_in(world, idp, email="Manager@a.example")
    assert response.redirect_chain[-1][0] == reverse("console:dashboard")
    assert response.status_code == 200
    assert int(client.session["_auth_user_id"]) == world.manager.user.pk
    assert world.issuer.name in response.content.decode()
    account = SocialAccount.objects.get()
    assert (account.user_id, account.provider, account.uid) == (
        world.manager.user.pk,
        f"issuer-{world.issuer.pk}-saml",
        "Manager@a.example",
    )


def test_the_owners_email_attribute_is_read_before_the_nameid(world, idp):
    configure(world.issuer, idp, email_attribute="urn:example:mail")
    attributes = {"urn:example:mail": "manager@a.example"}
    client, response = sign_in(world, idp, email="u-7@a.example", attributes=attributes)
    assert response.redirect_chain[-1][0] == reverse("console:dashboard")
    assert int(client.session["_auth_user_id"]) == world.manager.user.pk
    # Named but missing from the assertion: an e-mail NameID is the fallback (allauth's rule).
    configure(world.issuer, idp, email_attribute="urn:example:absent")
    client, response = sign_in(world, idp, email="viewer@a.example", attributes=attributes)
    assert int(client.session["_auth_user_id"]) == world.viewer.user.pk


def test_the_start_page_offers_both_protocols_when_both_are_set(world, idp):
    from issuers.identity import IdentityProviderInput, identity_provider_set

    identity_provider_set(
        issuer=world.issuer,
        data=IdentityProviderInput("Acme OIDC", "https://idp.a.example", "c", "s", True),
        actor="test",
    )
    page = Client().get(reverse("console:sso-start"), {"organisation": world.issuer.slug})
    body = page.content.decode()
    assert "Continue with Acme OIDC" in body and "Continue with Acme SAML" in body
    assert reverse("saml_login", args=[f"issuer-{world.issuer.pk}"]) in body


def test_an_unknown_email_is_refused_and_no_account_is_made(world, idp):
    from django.contrib.auth import get_user_model

    users = get_user_model().objects.count()
    client, response = sign_in(world, idp, email="stranger@a.example")
    assert response.status_code == 403
    assert "no one on its console staff" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert get_user_model().objects.count() == users
    assert not SocialAccount.objects.exists()


def test_a_response_signed_by_another_key_is_refused(world, idp, caplog):
    impostor = FakeIdp()  # same entity id, its own key
    client, response = sign_in(world, impostor, email="manager@a.example")
    assert response.status_code == 401
    assert "Signature validation failed" in caplog.text
    assert "_auth_user_id" not in client.session
    assert not SocialAccount.objects.exists()


def test_another_issuers_idp_cannot_sign_in_this_issuers_staff(world, idp):
    from issuers.models import StaffRole
    from tests.console.conftest import make_staff

    theirs = FakeIdp("https://idp.b.example/saml")
    configure(world.other_issuer, theirs)
    make_staff(world.other_issuer, "owner@b.example", StaffRole.OWNER)
    # Through their own ACS, our staff's address finds no one on their staff.
    client, response = sign_in(world, theirs, email="manager@a.example", issuer=world.other_issuer)
    assert response.status_code == 403 and "_auth_user_id" not in client.session
    # Through our ACS, their signature is not our IdP's.
    client, response = sign_in(world, theirs, email="manager@a.example")
    assert response.status_code == 401 and "_auth_user_id" not in client.session
    assert not SocialAccount.objects.exists()


def test_the_metadata_names_the_acs(world, idp):
    acs, metadata = urls_of(world.issuer)
    response = Client(HTTP_HOST=HOST).get(metadata.removeprefix(f"http://{HOST}"))
    assert response.status_code == 200
    body = response.content.decode()
    assert f'entityID="{metadata}"' in body and f'Location="{acs}"' in body


def test_the_owner_sets_it_up_and_sees_what_to_register(world, owner_client):
    idp = FakeIdp()
    data = {
        "name": "Acme SAML",
        "entity_id": IDP_ENTITY,
        "sso_url": IDP_SSO,
        "x509cert": idp.cert_pem,
        "email_attribute": "",
        "enabled": "on",
    }
    response = owner_client.post(reverse("console:sso-saml"), data)
    assert response.status_code == 302
    provider = SamlIdentityProvider.objects.get(issuer=world.issuer)
    assert (provider.entity_id, provider.sso_url) == (IDP_ENTITY, IDP_SSO)
    page = owner_client.get(reverse("console:sso-saml")).content.decode()
    slug = f"issuer-{world.issuer.pk}"
    assert f"/console/accounts/saml/{slug}/acs/" in page
    assert f"/console/accounts/saml/{slug}/metadata/" in page
    # A certificate pasted as metadata shows it: base64 alone, lines broken.
    bare = "".join(idp.cert_pem.splitlines()[1:-1])
    response = owner_client.post(reverse("console:sso-saml"), {**data, "x509cert": bare})
    assert response.status_code == 302
    (action, entry_data) = (
        AuditEntry.objects.filter(issuer=world.issuer, action__startswith="sso.saml")
        .values_list("action", "data")
        .last()
    )
    fingerprint = idp.cert.fingerprint(hashes.SHA256()).hex()
    assert action == "sso.saml.changed"
    assert entry_data == {"enabled": True, "certificate_sha256": fingerprint}
    owner_client.post(reverse("console:sso-saml"), {"delete": "1"})
    assert not SamlIdentityProvider.objects.exists()
    assert AuditEntry.objects.filter(issuer=world.issuer, action="sso.saml.deleted").exists()


def test_a_garbled_certificate_is_refused_plainly(world, owner_client):
    data = {
        "name": "x",
        "entity_id": IDP_ENTITY,
        "sso_url": IDP_SSO,
        "x509cert": "-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----",
        "enabled": "on",
    }
    response = owner_client.post(reverse("console:sso-saml"), data)
    assert response.status_code == 400
    assert "not an X.509 certificate" in response.content.decode()
    assert not SamlIdentityProvider.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="sso.saml").exists()


def test_only_the_owner_sees_the_settings(world, manager_client, viewer_client):
    assert manager_client.get(reverse("console:sso-saml")).status_code == 403
    assert viewer_client.get(reverse("console:sso-saml")).status_code == 403
    assert manager_client.post(reverse("console:sso-saml"), {"delete": "1"}).status_code == 403
