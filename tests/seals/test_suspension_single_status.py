"""A suspension seen by a verifier that reads only the credential's one credentialStatus.

The credential carries the revocation entry alone (OB 3.0 allows one); a suspension sets that
position's revocation bit for good and a reinstatement moves the seal to a fresh position
(docs/design.md §8). Read here with an independent decoder: zlib and bit arithmetic on the
list as jwcrypto verified it, nothing from seals.status_lists.
"""

from __future__ import annotations

import base64
import zlib

import pytest

from seals.credentials import credential_jwt
from seals.keys import issuer_jwks
from seals.models import CancelledStatusEntry
from seals.services import seal_reinstate, seal_revoke, seal_suspend
from seals.status_lists import status_list_assign, status_lists_regenerate_dirty
from seals.verification import verify_jwt
from tests.factories import MemberFactory, award
from tests.seals.credential_checks import jwcrypto_claims, jwt_parts

# Transactions commit, so the side effects a change queues (lists marked dirty, cached lists
# replaced) run as in production.
pytestmark = pytest.mark.django_db(transaction=True)
HOST = "http://127.0.0.1:8000"


def single_status_says_set(token: str, client) -> bool:
    """What a verifier reading only ``credentialStatus`` concludes: is the bit set?"""
    _, payload = jwt_parts(token)
    entry = payload["credentialStatus"]
    assert isinstance(entry, dict) and entry["statusPurpose"] == "revocation"
    jwks = client.get(f"/issuers/{payload['issuer']['id'].rsplit('/', 1)[-1]}/jwks.json").json()
    listed = client.get(entry["statusListCredential"].removeprefix(HOST)).content.decode()
    subject = jwcrypto_claims(listed, jwks)["credentialSubject"]
    assert subject["statusPurpose"] == entry["statusPurpose"]
    encoded = subject["encodedList"]
    assert encoded[0] == "u"
    raw = base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4))
    bits = zlib.decompress(raw, wbits=31)  # GZIP
    index = int(entry["statusListIndex"])
    return bool(bits[index // 8] >> (7 - index % 8) & 1)


@pytest.fixture
def seal(issuer):
    return award(MemberFactory(issuer=issuer))


def test_a_single_status_verifier_refuses_a_suspended_seals_credential(seal, client):
    before = credential_jwt(seal)
    assert single_status_says_set(before, client) is False
    seal_suspend(seal=seal, reason="audit", actor="test")
    status_lists_regenerate_dirty()
    assert single_status_says_set(before, client) is True
    # Ours tells it apart by the suspension bit at the same position.
    result = verify_jwt(before)
    assert result.failed == "status" and result.reason.startswith("Suspended")
    # And so is a copy fetched while the seal is suspended.
    seal.refresh_from_db()
    assert single_status_says_set(credential_jwt(seal), client) is True


def test_reinstatement_moves_the_seal_and_never_clears_a_revocation_bit(seal, client):
    before = credential_jwt(seal)
    old_index = seal.status_list_index
    seal_suspend(seal=seal, reason="audit", actor="test")
    status_lists_regenerate_dirty()
    seal = seal_reinstate(seal=seal, reason="cleared", actor="test")
    status_lists_regenerate_dirty()
    assert seal.status_list_index != old_index
    fresh = credential_jwt(seal)
    assert jwt_parts(fresh)[1]["jti"] != jwt_parts(before)[1]["jti"]
    assert single_status_says_set(fresh, client) is False and verify_jwt(fresh).valid
    # The copy from before the suspension stays cancelled (BSL §2.1: revocation is final).
    assert single_status_says_set(before, client) is True
    result = verify_jwt(before)
    assert result.failed == "status" and result.reason.startswith("Revoked")
    assert jwcrypto_claims(fresh, issuer_jwks(seal.issuer))


def test_a_suspended_then_revoked_seal_stays_refused(seal, client):
    before = credential_jwt(seal)
    seal_suspend(seal=seal, reason="audit", actor="test")
    seal_revoke(seal=seal, reason="fraud", actor="test")
    status_lists_regenerate_dirty()
    assert single_status_says_set(before, client) is True
    assert verify_jwt(before).reason.startswith("Revoked")


def test_a_cancelled_position_is_never_given_to_another_seal(seal, monkeypatch):
    seal_suspend(seal=seal, reason="audit", actor="test")
    seal = seal_reinstate(seal=seal, reason="cleared", actor="test")
    cancelled = CancelledStatusEntry.objects.get(seal=seal).status_list_index
    free = next(i for i in range(100) if i not in (cancelled, seal.status_list_index))
    draws = iter([cancelled, cancelled, free])
    monkeypatch.setattr("seals.status_lists.secrets.randbelow", lambda size: next(draws))
    assert award(MemberFactory(issuer=seal.issuer)).status_list_index == free


def test_each_suspension_cancels_one_more_position(seal):
    seal_suspend(seal=seal, reason="audit", actor="test")
    first = seal_reinstate(seal=seal, reason="ok", actor="test").status_list_index
    seal_suspend(seal=seal, reason="again", actor="test")
    seal = seal_reinstate(seal=seal, reason="ok", actor="test")
    assert first != seal.status_list_index
    assert CancelledStatusEntry.objects.filter(seal=seal).count() == 2
    # Nothing else moves it: assigning again keeps the position it has.
    second = seal.status_list_index
    status_list_assign(seal=seal)
    assert seal.status_list_index == second
