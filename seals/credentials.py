"""The one signer: Open Badges 3.0 credentials, status lists and status tokens as JWTs.

OB 3.0 §8.2 (VC-JWT): the payload is the credential itself plus the JWT claims ``iss``,
``sub``, ``jti``, ``nbf`` and ``exp``; the header is exactly ``alg``, ``kid`` and ``typ: "JWT"``.
The ``kid`` is an absolute URL answering the bare JWK.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from django.conf import settings
from django.core.cache import cache

from issuers.models import Issuer, Programme
from seals import data_integrity
from seals.keys import (
    data_integrity_key,
    issuer_did,
    issuer_id,
    issuer_url,
    key_did_url,
    key_signing_kid,
    signing_key_active,
    signing_key_private,
)
from seals.models import Seal, SigningKey
from seals.status import effective_status, next_change_at
from seals.status_lists import status_list_assign, status_list_entries

OB3_CONTEXTS = [
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json",
]
OB3_SCHEMA_URL = (
    "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json"
)
# The JWT claims that wrap the credential; they are not part of the credential's data model.
JWT_CLAIMS = ("iss", "sub", "jti", "nbf", "exp", "iat", "aud")
STATUS_TOKEN_TTL = timedelta(hours=1)
_CREDENTIAL_CACHE_SECONDS = 24 * 3600


def _timestamp(moment: datetime) -> str:
    """XML Schema dateTime in UTC, whole seconds (OB 3.0 / VC 2.0 want no fractions here)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def jwt_sign(*, issuer: Issuer, payload: dict[str, Any], key: SigningKey | None = None) -> str:
    """Sign ``payload`` with the issuer's active key; header exactly {alg, kid, typ}."""
    key = key or signing_key_active(issuer)
    return jwt.encode(
        payload,
        signing_key_private(key),
        algorithm=key.algorithm,
        headers={"kid": key_signing_kid(key), "typ": "JWT"},
    )


def credential_digest(content: dict[str, Any]) -> str:
    """SHA-256 over the canonical JSON of what a credential says (everything but its id).

    The id, the ``jti`` and the signed-token cache key all derive from it, not from
    ``seal.version``: renaming a member, issuer or programme changes the credential without
    touching the seal row, and must still yield a freshly signed credential at once.
    """
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def credential_id(seal: Seal, digest: str) -> str:
    """The same content always carries the same id (and ``jti``); any change, a new one."""
    name = f"{settings.PUBLIC_BASE_URL}/s/{seal.public_id}/credential/{digest}"
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, name)}"


def subject_id(seal: Seal) -> str:
    # An opaque, stable identifier of the member organisation: the credential names the member
    # through `identifier`, and no internal database id leaks.
    name = f"{settings.PUBLIC_BASE_URL}/issuers/{seal.issuer.slug}/members/{seal.member_id}"
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, name)}"


def achievement_url(programme: Programme) -> str:
    """The achievement's ``id``: it answers the Achievement itself (credential_views)."""
    return f"{issuer_url(programme.issuer)}/programmes/{programme.slug}"


def achievement_build(programme: Programme) -> dict[str, Any]:
    """The programme as an OB 3.0 Achievement, the same in every credential and at its URL."""
    criteria = (
        {"id": programme.criteria_url}
        if programme.criteria_url
        else {"narrative": programme.description or f"Awarded by {programme.issuer.name}."}
    )
    return {
        "id": achievement_url(programme),
        "type": ["Achievement"],
        "name": programme.name,
        "description": programme.description or programme.name,
        "criteria": criteria,
    }


def credential_build(seal: Seal, *, data_integrity: bool = False) -> dict[str, Any]:
    """The OpenBadgeCredential for the seal's current record (no JWT claims).

    ``data_integrity``: the form secured by a Data Integrity proof, which names the issuer by
    its DID (the proof's verification method is a DID URL, and verifiers require the issuer to
    be that method's controller) and points at the status lists secured the same way.
    """
    issuer, programme, member = seal.issuer, seal.programme, seal.member
    if seal.status_list_index is None:
        # Seals awarded before status lists existed get their index on first issue.
        status_list_assign(seal=seal)
        Seal.objects.filter(pk=seal.pk, status_list_index__isnull=True).update(
            status_list=seal.status_list, status_list_index=seal.status_list_index
        )
        seal.refresh_from_db(fields=["status_list", "status_list_index"])
    profile_id = issuer_did(issuer) if data_integrity else issuer_id(issuer)
    profile: dict[str, Any] = {"id": profile_id, "type": ["Profile"], "name": issuer.name}
    if issuer.website:
        profile["url"] = issuer.website
    credential: dict[str, Any] = {
        "@context": OB3_CONTEXTS,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": profile,
        "validFrom": _timestamp(seal.valid_from),
        "name": f"{programme.name}: {member.display_name}",
        "credentialSubject": {
            "id": subject_id(seal),
            "type": ["AchievementSubject"],
            "identifier": [
                {
                    "type": "IdentityObject",
                    "identityHash": member.legal_name,
                    "identityType": "name",
                    "hashed": False,
                }
            ],
            "achievement": achievement_build(programme),
        },
        # OB 3.0 allows a single entry: revocation; suspension sits at the same index.
        "credentialStatus": status_list_entries(seal, data_integrity=data_integrity)[0],
        "credentialSchema": [{"id": OB3_SCHEMA_URL, "type": "1EdTechJsonSchemaValidator2019"}],
    }
    if seal.expires_at is not None:
        credential["validUntil"] = _timestamp(seal.expires_at)
    # Every input is in ``credential`` by now (nbf and exp mirror validFrom and validUntil).
    digest = credential_digest(credential)
    return {"@context": OB3_CONTEXTS, "id": credential_id(seal, digest), **credential}


def credential_payload(seal: Seal) -> dict[str, Any]:
    """The flat VC-JWT payload: the credential plus iss, sub, jti, nbf (and exp if it expires)."""
    credential = credential_build(seal)
    claims: dict[str, Any] = {
        "iss": credential["issuer"]["id"],
        "sub": credential["credentialSubject"]["id"],
        "jti": credential["id"],
        "nbf": _epoch(seal.valid_from),
    }
    if seal.expires_at is not None:
        claims["exp"] = _epoch(seal.expires_at)
    return {**credential, **claims}


def credential_jwt(seal: Seal) -> str:
    """The signed credential, cached per content and signing key.

    The payload is built on every call (a few attribute reads; the seal, issuer, programme and
    member come with the seal) and only the signature is cached, under its jti (the digest of
    its content): whatever changes what the credential says — a renewal, a renamed member,
    issuer or programme — misses the cache and is signed afresh on the next fetch.
    """
    key = signing_key_active(seal.issuer)
    payload = credential_payload(seal)
    # The jti is derived from the content digest (credential_id); the JWT claims around it
    # (iss, sub, nbf, exp) mirror fields already inside it.
    cache_key = f"credential:{seal.pk}:{payload['jti']}:{key.pk}"
    token = cache.get(cache_key)
    if token is None:
        token = jwt_sign(issuer=seal.issuer, payload=payload, key=key)
        cache.set(cache_key, token, _CREDENTIAL_CACHE_SECONDS)
    return token


def credential_data_integrity(seal: Seal, *, now: datetime | None = None) -> dict[str, Any]:
    """The credential secured with an ``eddsa-rdfc-2022`` proof by the issuer's Ed25519 key,
    cached like the JWT: per content (its id) and key, so only a change re-signs."""
    key = data_integrity_key(seal.issuer)
    credential = credential_build(seal, data_integrity=True)
    cache_key = f"credential-di:{seal.pk}:{credential['id']}:{key.pk}"
    secured = cache.get(cache_key)
    if secured is None:
        secured = data_integrity.sign(
            credential,
            private_key=signing_key_private(key),
            verification_method=key_did_url(key),
            created=(now or datetime.now(UTC)).astimezone(UTC),
        )
        cache.set(cache_key, secured, _CREDENTIAL_CACHE_SECONDS)
    return secured


def status_token(seal: Seal, now: datetime) -> str:
    """A short-lived signed statement of the seal's effective status (stapled proof).

    ``exp`` is at most STATUS_TOKEN_TTL away and never past the next moment the status changes
    by itself (the expiry of an active seal, the start of a pending one), so a token can never
    claim "active" beyond the membership. Cached per seal version and key, and reused only while
    at least half its lifetime remains, so the hot path rarely signs.
    """
    key = signing_key_active(seal.issuer)
    cache_key = f"statustoken:{seal.pk}:{seal.version}:{key.pk}"
    hit = cache.get(cache_key)
    now_s = _epoch(now)
    if hit is not None:
        token, iat, exp = hit
        if exp - now_s >= (exp - iat) / 2 and iat <= now_s:
            return token
    limit = now + STATUS_TOKEN_TTL
    change = next_change_at(seal, now)
    if change is not None and change < limit:
        limit = change
    exp = max(_epoch(limit), now_s)
    payload = {
        "iss": issuer_id(seal.issuer),
        "sub": seal.public_id,
        "status": effective_status(seal, now),
        "iat": now_s,
        "exp": exp,
    }
    token = jwt_sign(issuer=seal.issuer, payload=payload, key=key)
    lifetime = exp - now_s
    if lifetime >= 2:
        cache.set(cache_key, (token, now_s, exp), lifetime // 2)
    return token
