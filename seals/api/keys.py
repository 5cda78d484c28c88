"""Signing keys (list, rotate, revoke) and a seal's signed credential.

Thin adapters around seals.keys and seals.credentials; every lookup is scoped to the calling
issuer by the base (another issuer's key or seal is a 404).
"""

from __future__ import annotations

import jwt
from django.db.models import QuerySet
from rest_framework import mixins, status
from rest_framework.response import Response

from issuers.api.base import IssuerAPIView, IssuerRequest, IssuerViewSet
from seals import keys
from seals.api import keys_docs as docs
from seals.api.serializers import CredentialSerializer, KeyRotateSerializer, SigningKeySerializer
from seals.credentials import credential_jwt
from seals.models import Seal, SigningKey


@docs.signing_keys
class SigningKeyViewSet(IssuerViewSet, mixins.ListModelMixin):
    queryset = SigningKey.objects.none()
    serializer_class = SigningKeySerializer

    def get_queryset(self) -> QuerySet[SigningKey]:
        return super().get_queryset().select_related("issuer")


@docs.signing_key_rotate
class SigningKeyRotateView(IssuerAPIView):
    serializer_class = SigningKeySerializer

    def post(self, request: IssuerRequest) -> Response:
        body = KeyRotateSerializer(data=request.data or {})
        body.is_valid(raise_exception=True)
        key = keys.signing_key_rotate(
            issuer=request.issuer, algorithm=body.validated_data.get("algorithm")
        )
        return Response(self.get_serializer(key).data, status=status.HTTP_201_CREATED)


@docs.signing_key_revoke
class SigningKeyRevokeView(IssuerAPIView):
    queryset = SigningKey.objects.none()
    serializer_class = SigningKeySerializer
    lookup_field = "key_id"
    problem_statuses = {409}

    def post(self, request: IssuerRequest, key_id: str) -> Response:
        # Revoked already: the service's SigningKeyError, a 409 key_state_conflict.
        key = keys.signing_key_revoke(key=self.get_object())
        return Response(self.get_serializer(key).data)


@docs.seal_credential
class SealCredentialView(IssuerAPIView):
    # The same lookup as seals.api.views.SealViewSet: by public id, scoped to the issuer.
    queryset = Seal.objects.none()
    serializer_class = CredentialSerializer
    lookup_field = "public_id"
    lookup_url_kwarg = "seal_id"

    def get_queryset(self) -> QuerySet[Seal]:
        return super().get_queryset().select_related("member", "programme", "issuer")

    def get(self, request: IssuerRequest, seal_id: str) -> Response:
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
