"""Scopes: ``read`` for safe methods, ``write`` for everything else."""

from __future__ import annotations

from rest_framework import exceptions
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from config.problems import InsufficientScope
from issuers.models import ApiKey, Issuer


def required_scope(method: str) -> str:
    return ApiKey.Scope.READ if method in SAFE_METHODS else ApiKey.Scope.WRITE


class HasApiKeyScope(BasePermission):
    """Needs an API key (401 otherwise) with the scope the method requires (403 otherwise).

    A view may set ``required_scopes = {"POST": "read"}`` to override one method's scope.
    """

    def has_permission(self, request: Request, view: APIView) -> bool:
        api_key = request.auth
        if not isinstance(api_key, ApiKey):
            raise exceptions.NotAuthenticated(
                "No API key: send 'Authorization: Bearer ts_live_...'."
            )
        if api_key.issuer.status != Issuer.Status.ACTIVE:
            raise exceptions.PermissionDenied("This issuer account is suspended.")
        overrides = getattr(view, "required_scopes", {}) or {}
        method = request.method or ""  # always set by Django; none would need the write scope
        scope = overrides.get(method, required_scope(method))
        if scope not in api_key.scopes:
            raise InsufficientScope(scope)
        return True
