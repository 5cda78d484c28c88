"""OpenAPI documentation of seals.api.keys (summaries, descriptions, examples), applied to each
view class in one line."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view

from seals.api.serializers import CredentialSerializer, KeyRotateSerializer, SigningKeySerializer

KEY_EXAMPLE = {
    "key_id": "20260301-5f2c9a1b",
    "kid": "https://seals.example/issuers/guild-of-bakers/keys/20260301-5f2c9a1b",
    "algorithm": "ES256",
    "state": "active",
    "created_at": "2026-03-01T12:00:00Z",
    "retired_at": None,
    "revoked_at": None,
    "public_jwk": {
        "kty": "EC",
        "crv": "P-256",
        "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
        "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
        "kid": "https://seals.example/issuers/guild-of-bakers/keys/20260301-5f2c9a1b",
        "alg": "ES256",
        "use": "sig",
    },
}
RETIRED_EXAMPLE = {
    **KEY_EXAMPLE,
    "state": "retired",
    "retired_at": "2026-06-01T09:00:00Z",
}
REVOKED_EXAMPLE = {
    **KEY_EXAMPLE,
    "state": "revoked",
    "retired_at": "2026-06-01T09:00:00Z",
    "revoked_at": "2026-06-02T09:00:00Z",
}
CREDENTIAL_EXAMPLE = {
    "seal": "q3JxW8yWcV9kq0m3Yb1fYg",
    "jwt": "eyJhbGciOiJFUzI1NiIsImtpZCI6Imh0dHBzOi8v…",
    "header": {"alg": "ES256", "kid": KEY_EXAMPLE["kid"], "typ": "JWT"},
    "payload": {
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
            "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json",
        ],
        "id": "urn:uuid:2f1c8e0a-6a55-5b3e-9d2f-6d0c1f1e7b44",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {
            "id": "https://seals.example/issuers/guild-of-bakers",
            "type": ["Profile"],
            "name": "Guild of Bakers",
        },
        "validFrom": "2026-01-05T09:30:00Z",
        "validUntil": "2027-01-05T09:30:00Z",
        "credentialStatus": {
            "id": "https://seals.example/issuers/guild-of-bakers/status/revocation#94567",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": "94567",
            "statusListCredential": "https://seals.example/issuers/guild-of-bakers/status/revocation",
        },
        "iss": "https://seals.example/issuers/guild-of-bakers",
        "sub": "urn:uuid:7a0e3c52-0c1b-5e0f-8b0e-3f7d2a9c1e55",
        "jti": "urn:uuid:2f1c8e0a-6a55-5b3e-9d2f-6d0c1f1e7b44",
        "nbf": 1767605400,
        "exp": 1799141400,
    },
}


signing_keys = extend_schema_view(
    list=extend_schema(
        summary="List the issuer's signing keys",
        description="Active (signs now), retired (no longer signs, still published so what it "
        "signed keeps verifying) and revoked (withdrawn from the JWKS) keys, newest first.",
        tags=["keys"],
        examples=[OpenApiExample("Keys", value=KEY_EXAMPLE, response_only=True)],
    ),
)


signing_key_rotate = extend_schema(
    summary="Rotate the signing key",
    description="The active key is retired (it stays in the JWKS, so every credential it "
    "signed keeps verifying) and a new key signs from now on. Credentials and status tokens "
    "are re-signed with the new key on their next request.",
    tags=["keys"],
    request=KeyRotateSerializer,
    responses={201: SigningKeySerializer},
    examples=[
        OpenApiExample("Switch to RS256", value={"algorithm": "RS256"}, request_only=True),
        OpenApiExample("New key", value=KEY_EXAMPLE, response_only=True),
    ],
)


signing_key_revoke = extend_schema(
    summary="Revoke a signing key",
    description="The key leaves the JWKS and its `kid` URL answers 404, so every credential it "
    "signed fails verification from then on. Revoking the active key first rotates to a new "
    "one. Revocation is final: revoking a revoked key is 409.",
    tags=["keys"],
    request=None,
    responses={200: SigningKeySerializer},
    examples=[OpenApiExample("Revoked", value=REVOKED_EXAMPLE, response_only=True)],
)


seal_credential = extend_schema(
    summary="A seal's signed credential",
    description="The Open Badges 3.0 credential of the seal as a VC-JWT, with its decoded "
    "header and payload for convenience. Verify the JWT itself (against the issuer's JWKS), "
    "never the decoded copy.",
    tags=["seals"],
    responses={200: CredentialSerializer},
    examples=[OpenApiExample("Credential", value=CREDENTIAL_EXAMPLE, response_only=True)],
)
