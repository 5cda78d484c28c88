"""The status token stapled to the verify JSON: short-lived, issuer-signed, never past expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from issuers.services import programme_default
from seals.credentials import status_token
from seals.keys import issuer_jwks
from seals.services import seal_award, seal_suspend
from seals.verification import verify_jwt
from tests.factories import MemberFactory, award
from tests.seals.credential_checks import jwcrypto_claims, jwt_parts

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def test_it_carries_sub_status_iat_and_exp_and_jwcrypto_verifies_it(issuer):
    with time_machine.travel(NOW, tick=False):
        seal = award(MemberFactory(issuer=issuer))
        token = status_token(seal, NOW)
        claims = jwcrypto_claims(token, issuer_jwks(issuer))
        result = verify_jwt(token)
    assert jwt_parts(token)[0] == {"alg": "ES256", "kid": jwt_parts(token)[0]["kid"], "typ": "JWT"}
    assert claims["sub"] == seal.public_id and claims["status"] == "active"
    assert claims["iss"].endswith(f"/issuers/{issuer.slug}")
    assert claims["iat"] == int(NOW.timestamp())
    assert 0 < claims["exp"] - claims["iat"] <= 24 * 3600
    assert result.valid and result.kind == "status_token" and result.status == {"status": "active"}


def test_it_never_outlives_the_membership(issuer):
    member = MemberFactory(issuer=issuer)
    with time_machine.travel(NOW, tick=False):
        seal = seal_award(
            member=member,
            programme=programme_default(issuer),
            actor="test",
            expires_at=NOW + timedelta(minutes=10),
        )
    claims = jwt_parts(status_token(seal, NOW))[1]
    assert claims["exp"] == int(seal.expires_at.timestamp())


def test_it_is_reused_from_cache_until_half_its_life_then_reissued(issuer):
    with time_machine.travel(NOW, tick=False):
        seal = award(MemberFactory(issuer=issuer))
        first = status_token(seal, NOW)
    with time_machine.travel(NOW + timedelta(minutes=20), tick=False):
        assert status_token(seal, NOW + timedelta(minutes=20)) == first
    with time_machine.travel(NOW + timedelta(minutes=40), tick=False):
        later = status_token(seal, NOW + timedelta(minutes=40))
    assert later != first and jwt_parts(later)[1]["iat"] > jwt_parts(first)[1]["iat"]


def test_a_status_change_gives_a_new_token_at_once(issuer):
    with time_machine.travel(NOW, tick=False):
        seal = award(MemberFactory(issuer=issuer))
        status_token(seal, NOW)
        seal = seal_suspend(seal=seal, reason="audit", actor="test")
        assert jwt_parts(status_token(seal, NOW))[1]["status"] == "suspended"


def test_an_expired_status_token_is_rejected(issuer):
    with time_machine.travel(NOW, tick=False):
        seal = award(MemberFactory(issuer=issuer))
        token = status_token(seal, NOW)
    with time_machine.travel(NOW + timedelta(hours=2), tick=False):
        result = verify_jwt(token)
        with pytest.raises(Exception, match=r"[Ee]xpired"):
            jwcrypto_claims(token, issuer_jwks(issuer))
    assert (result.valid, result.failed) == (False, "time")
