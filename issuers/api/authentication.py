"""``Authorization: Bearer ts_live_<prefix>_<secret>``: the API's only authentication.

No session or cookie authentication anywhere under /api/ (the base view sets this class alone,
and REST_FRAMEWORK's default list is empty), so a browser's cookies can never act on the API.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from config import db_router
from config.problems import WWW_AUTHENTICATE
from issuers.models import ApiKey, Issuer
from issuers.services import apikey_authenticate

LAST_USED_RESOLUTION = timedelta(seconds=60)


@dataclass(frozen=True)
class ApiClient:
    """``request.user`` for API calls: the issuer acting through one key (not a Django user)."""

    issuer: Issuer
    api_key: ApiKey
    is_authenticated: bool = True
    is_anonymous: bool = False


def apikey_touch(api_key: ApiKey) -> None:
    """Record use at most once per LAST_USED_RESOLUTION.

    Writing on every request would turn every read into a write on one hot row; the
    conditional UPDATE lets only the first of concurrent requests in a minute write, the
    others match no row.
    """
    now = timezone.now()
    threshold = now - LAST_USED_RESOLUTION
    if api_key.last_used_at is not None and api_key.last_used_at >= threshold:
        return
    with db_router.bookkeeping_writes():  # no read of this request depends on it
        ApiKey.objects.filter(pk=api_key.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=threshold)
        ).update(last_used_at=now)


class ApiKeyAuthentication(BaseAuthentication):
    keyword = "bearer"

    def authenticate(self, request: Request) -> tuple[ApiClient, ApiKey] | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None  # the permission turns this into 401 "Authentication required"
        scheme, _, token = header.strip().partition(" ")
        if scheme.lower() != self.keyword or not token.strip():
            raise exceptions.AuthenticationFailed(
                "Malformed Authorization header; send 'Authorization: Bearer ts_live_...'."
            )
        api_key = apikey_authenticate(token.strip())
        if api_key is None:
            raise exceptions.AuthenticationFailed("The API key is invalid or has been revoked.")
        apikey_touch(api_key)
        return ApiClient(issuer=api_key.issuer, api_key=api_key), api_key

    def authenticate_header(self, request: Request) -> str:
        return WWW_AUTHENTICATE


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "issuers.api.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "ts_live_<prefix>_<secret>",
            "description": "An API key from `manage.py createapikey <issuer-slug>`.",
        }
