"""Issuers' signing keys: creation, rotation, revocation, publication and the encrypted private key.

A key is ``active`` (signs), ``retired`` (no longer signs, still published so every credential
it signed keeps verifying) or ``revoked`` (withdrawn from the JWKS: whatever it signed fails
verification from then on). The private half is only ever stored encrypted with the
key-encryption key (``KEY_ENCRYPTION_KEYS``, a MultiFernet: the first key encrypts, all decrypt).
"""

from __future__ import annotations

import base64
import secrets
from typing import Any
from urllib.parse import quote, urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

from config.errors import ConflictError, InvalidInputError
from issuers.encryption import key_fernet
from issuers.models import Issuer
from seals import multibase
from seals.models import SigningKey

PUBLISHED_STATES = (SigningKey.State.ACTIVE, SigningKey.State.RETIRED)
JWKS_CACHE_SECONDS = 300
# The two uses of a key: JWTs (the algorithms the 1EdTech validator accepts) and Data Integrity
# proofs (eddsa-rdfc-2022 needs Ed25519). Each use has its own active key.
JOSE_ALGORITHMS = (SigningKey.Algorithm.ES256, SigningKey.Algorithm.RS256)
DATA_INTEGRITY_ALGORITHM = SigningKey.Algorithm.EDDSA
DID_CONTEXTS = [
    "https://www.w3.org/ns/did/v1",
    "https://w3id.org/security/multikey/v1",
    "https://w3id.org/security/suites/jws-2020/v1",
]


class SigningKeyError(ConflictError):
    """A key operation the key's state does not allow (API: 409 Conflict)."""

    code = "key_state_conflict"


def _generate(algorithm: str):
    if algorithm == SigningKey.Algorithm.ES256:
        return ec.generate_private_key(ec.SECP256R1())
    if algorithm == SigningKey.Algorithm.RS256:
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if algorithm == SigningKey.Algorithm.EDDSA:
        return ed25519.Ed25519PrivateKey.generate()
    raise InvalidInputError(
        "algorithm", f"Unsupported algorithm {algorithm!r}; use ES256, RS256 or EdDSA."
    )


def _to_jwk(algorithm: str, public_key: Any) -> dict[str, Any]:
    if algorithm == SigningKey.Algorithm.ES256:
        return ECAlgorithm.to_jwk(public_key, as_dict=True)
    if algorithm == SigningKey.Algorithm.RS256:
        return RSAAlgorithm.to_jwk(public_key, as_dict=True)
    return OKPAlgorithm.to_jwk(public_key, as_dict=True)


def issuer_url(issuer: Issuer) -> str:
    """The issuer's OB 3.0 Profile URL, the ``iss`` of everything it signs by default."""
    return f"{settings.PUBLIC_BASE_URL}/issuers/{issuer.slug}"


def issuer_did(issuer: Issuer) -> str:
    """``did:web:<host>:issuers:<slug>``, resolving to ``/issuers/<slug>/did.json``.

    did:web §3.2: the host's port is percent-encoded (``:`` → ``%3A``) and every path segment
    becomes a ``:``-separated part; a path ending in ``did.json`` (not ``.well-known``) is what
    a DID with a path resolves to.
    """
    base = urlsplit(settings.PUBLIC_BASE_URL)
    parts = [quote(base.netloc, safe=""), *[p for p in base.path.split("/") if p]]
    return ":".join(["did:web", *parts, "issuers", issuer.slug])


def issuer_id(issuer: Issuer) -> str:
    """The issuer's id in what it signs: its DID when it has opted for DIDs, else its URL."""
    return issuer_did(issuer) if issuer.credentials_use_did else issuer_url(issuer)


def key_kid(key: SigningKey) -> str:
    """The ``kid``: an absolute URL that answers the bare public JWK (the 1EdTech validator
    fetches it and expects one JWK, not a set)."""
    return f"{settings.PUBLIC_BASE_URL}/issuers/{key.issuer.slug}/keys/{key.key_id}"


def key_did_url(key: SigningKey) -> str:
    """The key as a verification method of the issuer's DID document."""
    return f"{issuer_did(key.issuer)}#{key.key_id}"


def key_signing_kid(key: SigningKey) -> str:
    """The ``kid`` a new JWT carries: the DID URL for issuers that sign as their DID."""
    return key_did_url(key) if key.issuer.credentials_use_did else key_kid(key)


def key_public_bytes(key: SigningKey) -> bytes:
    """The raw 32-byte Ed25519 public key (RFC 8037 ``x``)."""
    if key.algorithm != DATA_INTEGRITY_ALGORITHM:
        raise SigningKeyError(f"{key.algorithm} keys have no raw Ed25519 form.")
    x = key.public_jwk["x"]
    return base64.urlsafe_b64decode(x + "=" * (-len(x) % 4))


def key_multibase(key: SigningKey) -> str:
    """Multikey ``publicKeyMultibase``: base58btc of the Ed25519 multicodec prefix + the key."""
    return multibase.encode(multibase.ED25519_PUB + key_public_bytes(key))


def key_verification_method(key: SigningKey) -> dict[str, Any]:
    """One verification method: Ed25519 keys as Multikey (Data Integrity, eddsa-rdfc-2022 §2.1),
    the JWT keys as JsonWebKey2020 with the same public JWK as the JWKS (did-jwt reads those)."""
    did = issuer_did(key.issuer)
    method: dict[str, Any] = {"id": key_did_url(key), "controller": did}
    if key.algorithm == DATA_INTEGRITY_ALGORITHM:
        return {**method, "type": "Multikey", "publicKeyMultibase": key_multibase(key)}
    return {**method, "type": "JsonWebKey2020", "publicKeyJwk": key_public_jwk(key)}


def key_public_jwk(key: SigningKey, *, kid: str | None = None) -> dict[str, Any]:
    """RFC 7517 public JWK with ``kid``, ``alg`` and ``use``; never any private member."""
    jwk = {k: v for k, v in key.public_jwk.items() if k in ("kty", "crv", "x", "y", "n", "e")}
    return {**jwk, "kid": kid or key_kid(key), "alg": key.algorithm, "use": "sig"}


def _jwks_cache_key(pk: int) -> str:
    return f"jwks:{pk}"


def _did_cache_key(pk: int) -> str:
    return f"diddoc:{pk}"


def forget_published(issuer: Issuer) -> None:
    """Drop the cached JWKS and DID document (after a key change, once committed)."""
    cache.delete_many([_jwks_cache_key(issuer.pk), _did_cache_key(issuer.pk)])


def _published_keys(issuer: Issuer) -> list[SigningKey]:
    keys = issuer.signing_keys.filter(state__in=PUBLISHED_STATES).order_by("created_at", "pk")
    return [key for key in keys.select_related("issuer")]


def issuer_jwks(issuer: Issuer) -> dict[str, list[dict[str, Any]]]:
    """The published key set (active + retired keys), cached until the next key change."""
    cache_key = _jwks_cache_key(issuer.pk)
    jwks = cache.get(cache_key)
    if jwks is None:
        keys = _published_keys(issuer)
        published = [key_public_jwk(key) for key in keys]
        if issuer.credentials_use_did:
            # Its JWTs name keys by DID URL; a JOSE library picks a key by exact kid, so each key
            # is also listed under that kid (the URL kids stay for what was signed before).
            published += [key_public_jwk(key, kid=key_did_url(key)) for key in keys]
        jwks = {"keys": published}
        cache.set(cache_key, jwks, JWKS_CACHE_SECONDS)
    return jwks


def issuer_did_document(issuer: Issuer) -> dict[str, Any]:
    """The issuer's DID document: the same keys as its JWKS (retired ones still there, revoked
    ones gone), each usable for assertions, cached like the JWKS."""
    cache_key = _did_cache_key(issuer.pk)
    document = cache.get(cache_key)
    if document is None:
        methods = [key_verification_method(key) for key in _published_keys(issuer)]
        document = {
            "@context": DID_CONTEXTS,
            "id": issuer_did(issuer),
            # The same subject as the OB 3.0 Profile (DID Core §5.1.3).
            "alsoKnownAs": [issuer_url(issuer)],
            "verificationMethod": methods,
            "assertionMethod": [method["id"] for method in methods],
        }
        cache.set(cache_key, document, JWKS_CACHE_SECONDS)
    return document


def signing_key_create(
    *, issuer: Issuer, algorithm: str = SigningKey.Algorithm.ES256
) -> SigningKey:
    """A new key for ``issuer``; its private half is stored only encrypted with the KEK."""
    private_key = _generate(algorithm)
    key_id = f"{timezone.now():%Y%m%d}-{secrets.token_hex(4)}"
    public_jwk = _to_jwk(algorithm, private_key.public_key())
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
    transaction.on_commit(lambda: forget_published(issuer))
    return key


def _family(algorithm: str) -> tuple[str, ...]:
    return (algorithm,) if algorithm == DATA_INTEGRITY_ALGORITHM else JOSE_ALGORITHMS


def signing_key_active(issuer: Issuer) -> SigningKey:
    """The key that signs JWTs for ``issuer`` now."""
    key = issuer.signing_keys.filter(
        state=SigningKey.State.ACTIVE, algorithm__in=JOSE_ALGORITHMS
    ).first()
    if key is None:
        raise SigningKeyError(f"Issuer {issuer.slug} has no active signing key; rotate to add one.")
    return key


def data_integrity_key(issuer: Issuer) -> SigningKey:
    """The issuer's active Ed25519 key, created on first use.

    Lazily rather than by a data migration: a migration would need the key-encryption key
    wherever migrations run, and issuers that never hand out a Data Integrity credential need
    no such key. Two first uses at once: the issuer row lock makes the second find the first's
    key (the partial unique constraint refuses a second active one anyway).
    """
    active = SigningKey.State.ACTIVE
    key = issuer.signing_keys.filter(state=active, algorithm=DATA_INTEGRITY_ALGORITHM).first()
    if key is not None:
        return key
    with transaction.atomic():
        Issuer.objects.select_for_update().get(pk=issuer.pk)
        key = issuer.signing_keys.filter(state=active, algorithm=DATA_INTEGRITY_ALGORITHM).first()
        return key or signing_key_create(issuer=issuer, algorithm=DATA_INTEGRITY_ALGORITHM)


@transaction.atomic
def signing_key_rotate(*, issuer: Issuer, algorithm: str | None = None) -> SigningKey:
    """Retire the active key (it stays published) and create a new one that signs from now on.

    The issuer row is locked so two rotations at once cannot leave two active keys (the partial
    unique constraint would refuse the second anyway).
    """
    Issuer.objects.select_for_update().get(pk=issuer.pk)
    if algorithm is not None and algorithm not in SigningKey.Algorithm.values:
        raise InvalidInputError(
            "algorithm", f"Unsupported algorithm {algorithm!r}; use ES256, RS256 or EdDSA."
        )
    # A JWT key replaces the JWT key, an Ed25519 key the Ed25519 key.
    current = issuer.signing_keys.filter(
        state=SigningKey.State.ACTIVE, algorithm__in=_family(algorithm or "ES256")
    ).first()
    if algorithm is None:
        algorithm = current.algorithm if current else SigningKey.Algorithm.ES256
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
        signing_key_rotate(issuer=key.issuer, algorithm=key.algorithm)
        key.refresh_from_db()
    key.state = SigningKey.State.REVOKED
    key.revoked_at = timezone.now()
    key.save(update_fields=["state", "revoked_at"])
    from seals.status_lists import status_lists_resign

    # In this transaction: the lists it signed are signed anew before anyone can see it revoked.
    status_lists_resign(key=key)
    transaction.on_commit(lambda: forget_published(key.issuer))
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
