"""Signing keys (list, rotate, revoke) and a seal's signed credential.

Thin adapters around seals.keys and seals.credentials; every lookup is scoped to the calling
issuer by the base (another issuer's key or seal is a 404).
"""

from __future__ import annotations

from typing import Any

import jwt
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from issuers.api.base import IssuerAPIView, IssuerViewSet
from seals import keys
from seals.api.serializers import StrictSerializer
from seals.credentials import credential_jwt
from seals.models import Seal, SigningKey

# --- serializers ------------------------------------------------------------------------------


class SigningKeySerializer(serializers.ModelSerializer):
    kid = serializers.SerializerMethodField(
        help_text="The JWT `kid`: an absolute URL answering this key's bare public JWK."
    )
    public_jwk = serializers.SerializerMethodField(
        help_text="RFC 7517 public JWK (kid, alg, use); private members are never returned."
    )

    class Meta:
        model = SigningKey
        fields = [
            "key_id",
            "kid",
            "algorithm",
            "state",
            "created_at",
            "retired_at",
            "revoked_at",
            "public_jwk",
        ]
        read_only_fields = fields

    def get_kid(self, key: SigningKey) -> str:
        return keys.key_kid(key)

    def get_public_jwk(self, key: SigningKey) -> dict[str, Any]:
        return keys.key_public_jwk(key)


class KeyRotateSerializer(StrictSerializer):
    algorithm = serializers.ChoiceField(
        choices=SigningKey.Algorithm.choices,
        required=False,
        help_text="Algorithm of the new key; default: the current key's (ES256 for a new issuer).",
    )


class CredentialSerializer(serializers.Serializer):
    seal = serializers.CharField(help_text="The seal's public id.")
    jwt = serializers.CharField(
        help_text="The Open Badges 3.0 credential as a VC-JWT (the same as "
        "/s/<seal_id>/credential.jwt)."
    )
    header = serializers.DictField(help_text="The decoded JWT header: alg, kid, typ.")
    payload = serializers.DictField(
        help_text="The decoded payload: the OpenBadgeCredential plus iss, sub, jti, nbf, exp."
    )


# --- examples ---------------------------------------------------------------------------------

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


# --- views ------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="List the issuer's signing keys",
        description="Active (signs now), retired (no longer signs, still published so what it "
        "signed keeps verifying) and revoked (withdrawn from the JWKS) keys, newest first.",
        tags=["keys"],
        examples=[OpenApiExample("Keys", value=KEY_EXAMPLE, response_only=True)],
    ),
)
class SigningKeyViewSet(IssuerViewSet, mixins.ListModelMixin):
    queryset = SigningKey.objects.select_related("issuer")
    serializer_class = SigningKeySerializer


@extend_schema(
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
class SigningKeyRotateView(IssuerAPIView):
    serializer_class = SigningKeySerializer

    def post(self, request: Request) -> Response:
        body = KeyRotateSerializer(data=request.data or {})
        body.is_valid(raise_exception=True)
        key = keys.signing_key_rotate(
            issuer=request.issuer, algorithm=body.validated_data.get("algorithm")
        )
        return Response(self.get_serializer(key).data, status=status.HTTP_201_CREATED)


@extend_schema(
    summary="Revoke a signing key",
    description="The key leaves the JWKS and its `kid` URL answers 404, so every credential it "
    "signed fails verification from then on. Revoking the active key first rotates to a new "
    "one. Revocation is final: revoking a revoked key is 409.",
    tags=["keys"],
    request=None,
    responses={200: SigningKeySerializer},
    examples=[OpenApiExample("Revoked", value=REVOKED_EXAMPLE, response_only=True)],
)
class SigningKeyRevokeView(IssuerAPIView):
    queryset = SigningKey.objects.select_related("issuer")
    serializer_class = SigningKeySerializer
    lookup_field = "key_id"
    problem_statuses = {409}

    def post(self, request: Request, key_id: str) -> Response:
        # Revoked already: the service's SigningKeyError, a 409 key_state_conflict.
        key = keys.signing_key_revoke(key=self.get_object())
        return Response(self.get_serializer(key).data)


@extend_schema(
    summary="A seal's signed credential",
    description="The Open Badges 3.0 credential of the seal as a VC-JWT, with its decoded "
    "header and payload for convenience. Verify the JWT itself (against the issuer's JWKS), "
    "never the decoded copy.",
    tags=["seals"],
    responses={200: CredentialSerializer},
    examples=[OpenApiExample("Credential", value=CREDENTIAL_EXAMPLE, response_only=True)],
)
class SealCredentialView(IssuerAPIView):
    # The same lookup as seals.api.views.SealViewSet: by public id, scoped to the issuer.
    queryset = Seal.objects.select_related("member", "programme", "issuer")
    serializer_class = CredentialSerializer
    lookup_field = "public_id"
    lookup_url_kwarg = "seal_id"

    def get(self, request: Request, seal_id: str) -> Response:
        seal = self.get_object()
        token = credential_jwt(seal)
        return Response(
            {
                "seal": seal.public_id,
                "jwt": token,
                "header": jwt.get_unverified_header(token),
                # Our own token, just signed: decoding without verifying only unpacks it.
                "payload": jwt.decode(token, options={"verify_signature": False}),
            }
        )
