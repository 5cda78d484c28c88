"""Issuers' signing keys: creation, rotation, revocation, publication and the encrypted private key.

A key is ``active`` (signs), ``retired`` (no longer signs, still published so every credential
it signed keeps verifying) or ``revoked`` (withdrawn from the JWKS: whatever it signed fails
verification from then on). The private half is only ever stored encrypted with the
key-encryption key (``KEY_ENCRYPTION_KEYS``, a MultiFernet: the first key encrypts, all decrypt).
"""

from __future__ import annotations

import secrets
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from config.errors import ConflictError, InvalidInputError
from issuers.encryption import key_fernet
from issuers.models import Issuer
from seals.models import SigningKey

PUBLISHED_STATES = (SigningKey.State.ACTIVE, SigningKey.State.RETIRED)
JWKS_CACHE_SECONDS = 300


class SigningKeyError(ConflictError):
    """A key operation the key's state does not allow (API: 409 Conflict)."""

    code = "key_state_conflict"


def _generate(algorithm: str):
    if algorithm == SigningKey.Algorithm.ES256:
        return ec.generate_private_key(ec.SECP256R1())
    if algorithm == SigningKey.Algorithm.RS256:
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    raise InvalidInputError(
        "algorithm", f"Unsupported algorithm {algorithm!r}; use ES256 or RS256."
    )


def issuer_url(issuer: Issuer) -> str:
    """The issuer's OB 3.0 Profile URL, also the ``iss`` of everything it signs."""
    return f"{settings.PUBLIC_BASE_URL}/issuers/{issuer.slug}"


def key_kid(key: SigningKey) -> str:
    """The ``kid``: an absolute URL that answers the bare public JWK (the 1EdTech validator
    fetches it and expects one JWK, not a set)."""
    return f"{settings.PUBLIC_BASE_URL}/issuers/{key.issuer.slug}/keys/{key.key_id}"


def key_public_jwk(key: SigningKey) -> dict[str, Any]:
    """RFC 7517 public JWK with ``kid``, ``alg`` and ``use``; never any private member."""
    jwk = {k: v for k, v in key.public_jwk.items() if k in ("kty", "crv", "x", "y", "n", "e")}
    return {**jwk, "kid": key_kid(key), "alg": key.algorithm, "use": "sig"}


def _jwks_cache_key(issuer_id: int) -> str:
    return f"jwks:{issuer_id}"


def _forget_published(issuer: Issuer) -> None:
    cache.delete(_jwks_cache_key(issuer.pk))


def issuer_jwks(issuer: Issuer) -> dict[str, list[dict[str, Any]]]:
    """The published key set (active + retired keys), cached until the next key change."""
    cache_key = _jwks_cache_key(issuer.pk)
    jwks = cache.get(cache_key)
    if jwks is None:
        keys = issuer.signing_keys.filter(state__in=PUBLISHED_STATES).order_by("created_at", "pk")
        jwks = {"keys": [key_public_jwk(key) for key in keys]}
        cache.set(cache_key, jwks, JWKS_CACHE_SECONDS)
    return jwks


def signing_key_create(
    *, issuer: Issuer, algorithm: str = SigningKey.Algorithm.ES256
) -> SigningKey:
    """A new key for ``issuer``; its private half is stored only encrypted with the KEK."""
    private_key = _generate(algorithm)
    key_id = f"{timezone.now():%Y%m%d}-{secrets.token_hex(4)}"
    to_jwk = ECAlgorithm.to_jwk if algorithm == SigningKey.Algorithm.ES256 else RSAAlgorithm.to_jwk
    public_jwk = to_jwk(private_key.public_key(), as_dict=True)
    pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    key = SigningKey.objects.create(
        issuer=issuer,
        key_id=key_id,
        algorithm=algorithm,
        public_jwk=public_jwk,
        private_key_encrypted=key_fernet().encrypt(pem),
    )
    transaction.on_commit(lambda: _forget_published(issuer))
    return key


def signing_key_active(issuer: Issuer) -> SigningKey:
    """The key that signs for ``issuer`` now."""
    key = issuer.signing_keys.filter(state=SigningKey.State.ACTIVE).first()
    if key is None:
        raise SigningKeyError(f"Issuer {issuer.slug} has no active signing key; rotate to add one.")
    return key


@transaction.atomic
def signing_key_rotate(*, issuer: Issuer, algorithm: str | None = None) -> SigningKey:
    """Retire the active key (it stays published) and create a new one that signs from now on.

    The issuer row is locked so two rotations at once cannot leave two active keys (the partial
    unique constraint would refuse the second anyway).
    """
    Issuer.objects.select_for_update().get(pk=issuer.pk)
    current = issuer.signing_keys.filter(state=SigningKey.State.ACTIVE).first()
    if algorithm is None:
        algorithm = current.algorithm if current else SigningKey.Algorithm.ES256
    if algorithm not in SigningKey.Algorithm.values:
        raise InvalidInputError(
            "algorithm", f"Unsupported algorithm {algorithm!r}; use ES256 or RS256."
        )
    if current is not None:
        current.state = SigningKey.State.RETIRED
        current.retired_at = timezone.now()
        current.save(update_fields=["state", "retired_at"])
    return signing_key_create(issuer=issuer, algorithm=algorithm)


@transaction.atomic
def signing_key_revoke(*, key: SigningKey) -> SigningKey:
    """Withdraw ``key``: it leaves the JWKS, its ``kid`` URL answers 404 and every credential it
    signed fails verification, except its status lists: those are re-signed with the active
    key in the same transaction (``status_lists_resign``). Revoking the active key first
    rotates to a new one, so the issuer can always sign. Revocation is final."""
    key = SigningKey.objects.select_for_update().select_related("issuer").get(pk=key.pk)
    if key.state == SigningKey.State.REVOKED:
        raise SigningKeyError("The key is already revoked; revocation is final.")
    if key.state == SigningKey.State.ACTIVE:
        signing_key_rotate(issuer=key.issuer)
        key.refresh_from_db()
    key.state = SigningKey.State.REVOKED
    key.revoked_at = timezone.now()
    key.save(update_fields=["state", "revoked_at"])
    from seals.status_lists import status_lists_resign

    # In this transaction: the lists it signed are signed anew before anyone can see it revoked.
    status_lists_resign(key=key)
    transaction.on_commit(lambda: _forget_published(key.issuer))
    return key


def signing_key_private_pem(key: SigningKey) -> bytes:
    return key_fernet().decrypt(bytes(key.private_key_encrypted))


def signing_key_private(key: SigningKey):
    """The private key object, decrypted in memory only for the time of a signature."""
    return serialization.load_pem_private_key(signing_key_private_pem(key), password=None)


def signing_keys_reencrypt() -> int:
    """Re-encrypt every private key with the first KEK (``MultiFernet.rotate``).

    Run after prepending a new key to ``KEY_ENCRYPTION_KEYS``; once it has finished, the old
    KEK can be removed. Each row is re-encrypted under a row lock, so it is safe to run twice.
    """
    fernet = key_fernet()
    count = 0
    for pk in SigningKey.objects.order_by("pk").values_list("pk", flat=True):
        with transaction.atomic():
            key = SigningKey.objects.select_for_update().get(pk=pk)
            key.private_key_encrypted = fernet.rotate(bytes(key.private_key_encrypted))
            key.save(update_fields=["private_key_encrypted"])
            count += 1
    return count
