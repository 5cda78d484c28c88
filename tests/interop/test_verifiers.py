"""The verifiers the field uses, each accepting a valid seal and refusing a revoked one.

jose (JWKS and kid), Veramo's did-jwt-vc (did:web), Digital Bazaar's vc (eddsa-rdfc-2022) and
@digitalbazaar/vc-bitstring-status-list, and the credential extracted from the baked PNG and
SVG badges, on Node against the live test server.
"""

from __future__ import annotations

import pytest

from seals.registry import issuer_credentials_use_did_set
from seals.services import seal_revoke, seal_suspend
from seals.status_lists import status_lists_regenerate_dirty
from tests.factories import IssuerFactory, MemberFactory, award

pytestmark = [pytest.mark.interop, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

# (verifier, how the issuer signs): did-jwt-vc resolves only DIDs, so it runs against the
# issuer that signs as its DID; the others run against both forms.
CASES = [
    *(
        (verifier, form)
        for verifier in ("jose", "vc", "bsl", "baked-png", "baked-svg")
        for form in ("url", "did")
    ),
    ("did-jwt-vc", "did"),
]


def _valid_and_revoked(*, use_did: bool):
    issuer = IssuerFactory()
    if use_did:
        issuer_credentials_use_did_set(issuer=issuer, enabled=True)
    valid = award(MemberFactory(issuer=issuer))
    revoked = award(MemberFactory(issuer=issuer))
    seal_revoke(seal=revoked, reason="fraud", actor="test")
    status_lists_regenerate_dirty()
    return valid, revoked


@pytest.mark.parametrize(("verifier", "form"), CASES)
def test_the_verifier_accepts_a_valid_seal(verifier, form, public_server, run_verifier):
    valid, _revoked = _valid_and_revoked(use_did=form == "did")
    result = run_verifier(verifier, valid.public_id)
    assert result["verified"] is True, result


@pytest.mark.parametrize(("verifier", "form"), CASES)
def test_the_verifier_refuses_a_revoked_seal(verifier, form, public_server, run_verifier):
    _valid, revoked = _valid_and_revoked(use_did=form == "did")
    result = run_verifier(verifier, revoked.public_id)
    assert result["verified"] is False and "revocation bit set" in result["error"], result


@pytest.mark.parametrize(("verifier", "form"), CASES)
def test_the_verifier_refuses_a_suspended_seal_reading_only_credential_status(
    verifier, form, public_server, run_verifier
):
    """None of these reads the suspension list; each still refuses (docs/design.md §8)."""
    valid, _revoked = _valid_and_revoked(use_did=form == "did")
    seal_suspend(seal=valid, reason="audit", actor="test")
    status_lists_regenerate_dirty()
    result = run_verifier(verifier, valid.public_id)
    assert result["verified"] is False and "revocation bit set" in result["error"], result


def test_did_jwt_vc_needs_the_did_option(public_server, run_verifier):
    """Without the option the issuer is a URL, which did-jwt-vc cannot resolve (as reported)."""
    valid, _revoked = _valid_and_revoked(use_did=False)
    result = run_verifier("did-jwt-vc", valid.public_id)
    assert result["verified"] is False and "DID" in result["error"], result
