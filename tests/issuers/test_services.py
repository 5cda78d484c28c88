import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from config.errors import InvalidInputError
from issuers.domains import host_matches, normalise_domain, normalise_domains
from issuers.encryption import blind_index
from issuers.models import ApiKey, Member
from issuers.services import MemberExistsError, apikey_authenticate, apikey_create, apikey_revoke
from seals.models import SigningKey
from tests.factories import IssuerFactory, MemberFactory


def test_an_issuer_starts_with_a_default_programme_and_an_es256_key(issuer):
    assert issuer.programmes.get(is_default=True).validity_days == 365
    key = SigningKey.objects.get(issuer=issuer)
    assert key.algorithm == "ES256" and key.state == "active"
    assert key.public_jwk["crv"] == "P-256" and "d" not in key.public_jwk
    assert b"PRIVATE KEY" not in bytes(key.private_key_encrypted)


def test_api_key_is_shown_once_and_stored_hashed(issuer):
    new = apikey_create(issuer=issuer, name="ci", scopes=["read"])
    assert new.plaintext.startswith(f"ts_live_{new.api_key.prefix}_")
    # The secret is URL-safe base64, which may itself hold "_": cut the prefix, not at "_".
    secret = new.plaintext.removeprefix(f"ts_live_{new.api_key.prefix}_")
    assert len(secret) >= 40
    stored = ApiKey.objects.get(pk=new.api_key.pk)
    assert secret not in stored.secret_hash and len(stored.secret_hash) == 64
    assert apikey_authenticate(new.plaintext) == stored


@pytest.mark.parametrize(
    "mangle",
    [
        lambda k: k[:-1] + ("A" if k[-1] != "A" else "B"),  # wrong secret
        lambda k: k.replace("ts_live_", "ts_test_"),
        lambda k: "ts_live_",
        lambda k: "",
        lambda k: k.split("_", 3)[0] + "_live_000000000000_" + k.rsplit("_", 1)[-1],
    ],
)
def test_it_refuses_a_wrong_or_malformed_key(issuer, mangle):
    new = apikey_create(issuer=issuer, name="ci")
    assert apikey_authenticate(mangle(new.plaintext)) is None


def test_a_revoked_key_no_longer_authenticates(issuer):
    new = apikey_create(issuer=issuer, name="ci")
    apikey_revoke(api_key=new.api_key)
    assert apikey_authenticate(new.plaintext) is None


def test_unknown_scopes_are_refused(issuer):
    with pytest.raises(InvalidInputError, match="admin"):
        apikey_create(issuer=issuer, name="x", scopes=["admin"])


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Example.COM", "example.com"),
        ("shop.example.co.uk.", "shop.example.co.uk"),
        ("bücher.example", "xn--bcher-kva.example"),
    ],
)
def test_domains_are_normalised(raw, expected):
    assert normalise_domain(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "https://example.com",
        "example.com:443",
        "example.com/path",
        "localhost",
        "1.2.3.4",
        "-bad.example",
        "a..example",
        "",
        "exa mple.com",
        "x" * 64 + ".example",
    ],
)
def test_it_refuses_what_is_not_a_bare_hostname(raw):
    with pytest.raises(ValidationError):
        normalise_domain(raw)


def test_duplicate_domains_are_refused():
    with pytest.raises(ValidationError, match="twice"):
        normalise_domains(["example.com", "EXAMPLE.com"])


def test_subdomains_of_a_member_domain_match():
    assert host_matches("shop.example.com", ["example.com"])
    assert host_matches("EXAMPLE.com", ["example.com"])
    assert not host_matches("badexample.com", ["example.com"])
    assert not host_matches("example.com.evil.test", ["example.com"])


def test_contact_details_are_encrypted_at_rest(db):
    member = MemberFactory(
        contact_name="Grace Hopper", contact_email="grace@navy.example", contact_phone="+1 555 0100"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT contact_name, contact_email, contact_phone, contact_email_hash "  # noqa: S608
            f"FROM {Member._meta.db_table} WHERE id = %s",
            [member.pk],
        )
        row = cursor.fetchone()
    raw = " ".join(row)
    # Long enough not to turn up by chance in the ciphertexts or the hex digest ("555" did).
    for plaintext in ("Grace", "Hopper", "grace@navy", "555 0100"):
        assert plaintext not in raw
    assert row[3] == blind_index("GRACE@navy.example ")
    reloaded = Member.objects.get(contact_email_hash=blind_index("grace@navy.example"))
    assert reloaded.contact_name == "Grace Hopper"


def test_external_refs_are_unique_per_issuer_only(db):
    a, b = IssuerFactory(), IssuerFactory()
    MemberFactory(issuer=a, external_ref="X-1")
    MemberFactory(issuer=b, external_ref="X-1")
    with pytest.raises(MemberExistsError):
        MemberFactory(issuer=a, external_ref="X-1")
