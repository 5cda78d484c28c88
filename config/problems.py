"""RFC 9457 problem details: the one shape of every error under /api/.

``exception_handler`` (the base view's ``get_exception_handler``) turns every DRF, Django and domain
exception raised in an API view into ``application/problem+json``::

    {"type": "https://trustseal.dev/problems/validation-error", "title": "Invalid request",
     "status": 400, "detail": "...", "instance": "/api/v1/members", "code": "validation_error",
     "errors": [{"field": "domains[1]", "message": "...", "code": "invalid"}]}

``handler400`` / ``handler403`` / ``handler404`` / ``handler500`` (config/urls.py) do the same for
Django's own errors on /api/ paths (a bad Host header, an unparseable body, a missing route, a
crash) and leave every other path to Django's plain pages.

Services raise ``config.errors.DomainError`` subclasses, each carrying its status, code and, for
an error about one value, the field; they are answered here, in ``_as_api_exception``, and
nowhere else. Anything else a view or service raises (a stray ``ValueError``, ``TypeError``) is
a bug: Django logs it and answers 500. Views raise these when a status has no DRF class:
``Conflict`` (409), ``PayloadTooLarge`` (413), ``Unprocessable`` (422), ``InsufficientScope``
(403).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

from django.core.exceptions import DisallowedHost, RequestDataTooBig
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.settings import api_settings

from config.errors import DomainError

PROBLEM_CONTENT_TYPE = "application/problem+json"
# Problem types are identifiers (RFC 9457 §3.1.1), documented in docs/api.md "Errors"; they
# are not fetched by clients.
PROBLEM_BASE = "https://trustseal.dev/problems/"
WWW_AUTHENTICATE = 'Bearer realm="trustseal"'

log = logging.getLogger("issuers.api")


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the resource."
    default_code = "conflict"


class Unprocessable(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "The request is well-formed but cannot be processed."
    default_code = "unprocessable"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


class InsufficientScope(exceptions.PermissionDenied):
    default_code = "insufficient_scope"

    def __init__(self, scope: str) -> None:
        self.scope = scope
        super().__init__(
            f"This API key lacks the '{scope}' scope. Create a key with the '{scope}' scope "
            "(manage.py createapikey --scope " + scope + ") to call this endpoint."
        )


# code -> (type slug, title)
_TYPES: dict[str, tuple[str, str]] = {
    "validation_error": ("validation-error", "Invalid request"),
    "bad_request": ("bad-request", "Bad request"),
    "parse_error": ("malformed-request", "Malformed request body"),
    "not_authenticated": ("unauthenticated", "Authentication required"),
    "authentication_failed": ("invalid-api-key", "Invalid API key"),
    "permission_denied": ("forbidden", "Forbidden"),
    "insufficient_scope": ("insufficient-scope", "Insufficient scope"),
    "not_found": ("not-found", "Not found"),
    "method_not_allowed": ("method-not-allowed", "Method not allowed"),
    "not_acceptable": ("not-acceptable", "Not acceptable"),
    "unsupported_media_type": ("unsupported-media-type", "Unsupported media type"),
    "payload_too_large": ("payload-too-large", "Payload too large"),
    "conflict": ("conflict", "Conflict"),
    "seal_state_conflict": ("seal-state-conflict", "Action not allowed in the seal's state"),
    "idempotency_key_reused": ("idempotency-key-reused", "Idempotency key reused"),
    "idempotency_in_progress": (
        "idempotency-in-progress",
        "A request with this idempotency key is in progress",
    ),
    "member_exists": ("member-exists", "Member exists"),
    "unprocessable": ("unprocessable", "Unprocessable request"),
    "throttled": ("rate-limited", "Too many requests"),
    "server_error": ("server-error", "Internal server error"),
    "service_unavailable": ("service-unavailable", "Service unavailable"),
}


def problem_type(code: str) -> str:
    return PROBLEM_BASE + _TYPES.get(code, (code.replace("_", "-"), ""))[0]


def problem_body(
    *, status_code: int, code: str, detail: str, instance: str, **extra: Any
) -> dict[str, Any]:
    slug_title = _TYPES.get(code)
    title = slug_title[1] if slug_title else code.replace("_", " ").capitalize()
    return {
        "type": problem_type(code),
        "title": title,
        "status": status_code,
        "detail": detail,
        "instance": instance,
        "code": code,
        **extra,
    }


def _flatten(detail: Any, prefix: str = "") -> Iterator[dict[str, Any]]:
    """DRF's nested error tree as a flat list of {field, message, code}; ``field`` is a path
    such as ``domains[1]`` or ``rows[3].legal_name``, null for errors about the whole body."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            if key == api_settings.NON_FIELD_ERRORS_KEY:
                yield from _flatten(value, prefix)
            else:
                yield from _flatten(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            for item in detail:
                yield from _flatten(item, prefix)
        else:
            for index, item in enumerate(detail):
                if item:
                    yield from _flatten(item, f"{prefix}[{index}]")
    else:
        yield {
            "field": prefix or None,
            "message": str(detail),
            "code": getattr(detail, "code", None) or "invalid",
        }


def validation_errors(detail: Any) -> list[dict[str, Any]]:
    return list(_flatten(detail))


class _DomainProblem(exceptions.APIException):
    """A DomainError as DRF sees it: its status, code, detail and extra members."""

    def __init__(self, exc: DomainError) -> None:
        self.status_code = exc.status_code
        self.extra = exc.extra
        super().__init__(exc.detail, code=exc.code)


def _as_api_exception(exc: Exception) -> exceptions.APIException | None:
    if isinstance(exc, exceptions.APIException):
        return exc
    if isinstance(exc, Http404):
        return exceptions.NotFound("No such object for this issuer.")
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied()
    if isinstance(exc, DjangoValidationError):
        return exceptions.ValidationError(as_serializer_error(exc))
    if isinstance(exc, RequestDataTooBig):
        return PayloadTooLarge(str(exc) or PayloadTooLarge.default_detail)
    if isinstance(exc, DomainError):
        if exc.field is not None or exc.code == "validation_error":
            # About one value of the request: the same answer a serializer gives.
            key = exc.field or api_settings.NON_FIELD_ERRORS_KEY
            return exceptions.ValidationError({key: [exc.detail]})
        return _DomainProblem(exc)
    return None


def _code_of(exc: exceptions.APIException) -> str:
    detail = exc.detail
    code = getattr(detail, "code", None) if not isinstance(detail, dict | list) else None
    if isinstance(exc, exceptions.ValidationError):
        return "validation_error"
    return code or exc.default_code


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Every API error as problem+json.

    Exceptions that are not client errors return None, so Django's handler500 answers (after
    logging the traceback); that answer is problem+json too on /api/ paths.
    """
    api_exc = _as_api_exception(exc)
    if api_exc is None:
        return None
    request = context.get("request")
    instance = request.get_full_path() if request is not None else ""
    code = _code_of(api_exc)
    extra: dict[str, Any] = {}
    headers: dict[str, str] = {}
    if isinstance(api_exc, exceptions.ValidationError):
        extra["errors"] = validation_errors(api_exc.detail)
        count = len(extra["errors"])
        first = extra["errors"][0] if count else None
        if count == 1 and first is not None:
            where = f"{first['field']}: " if first["field"] else ""
            detail = f"{where}{first['message']}"
        else:
            detail = f"The request has {count} errors; see 'errors' for each field."
    elif isinstance(api_exc.detail, dict | list):
        detail = "; ".join(e["message"] for e in validation_errors(api_exc.detail))
    else:
        detail = str(api_exc.detail)
    if isinstance(api_exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        headers["WWW-Authenticate"] = (
            WWW_AUTHENTICATE
            if isinstance(api_exc, exceptions.NotAuthenticated)
            else WWW_AUTHENTICATE + ', error="invalid_token"'
        )
    if isinstance(api_exc, InsufficientScope):
        extra["required_scope"] = api_exc.scope
        headers["WWW-Authenticate"] = (
            WWW_AUTHENTICATE + f', error="insufficient_scope", scope="{api_exc.scope}"'
        )
    if isinstance(api_exc, exceptions.Throttled):
        # The stubs leave out the attribute Throttled.__init__ sets (seconds, or None).
        wait: float | None = api_exc.wait  # type: ignore[attr-defined]
        retry_after = None if wait is None else max(1, int(wait + 0.999))
        if retry_after is not None:
            detail = f"Rate limit exceeded for this API key; retry in {retry_after} s."
    else:
        # e.g. idempotency_in_progress: the answer will be there shortly.
        retry_after = getattr(api_exc, "retry_after", None)
    if retry_after:
        headers["Retry-After"] = str(retry_after)
        extra["retry_after"] = retry_after
    if isinstance(api_exc, exceptions.MethodNotAllowed) and context.get("view") is not None:
        headers["Allow"] = ", ".join(context["view"].allowed_methods)
    extra.update(getattr(api_exc, "extra", None) or {})
    body = problem_body(
        status_code=api_exc.status_code, code=code, detail=detail, instance=instance, **extra
    )
    return Response(
        body, status=api_exc.status_code, headers=headers, content_type=PROBLEM_CONTENT_TYPE
    )


def problem_response(
    request: HttpRequest, *, status_code: int, code: str, detail: str, **extra: Any
) -> HttpResponse:
    """A problem+json answer outside DRF (Django's error handlers)."""
    body = problem_body(
        status_code=status_code,
        code=code,
        detail=detail,
        instance=request.get_full_path(),
        **extra,
    )
    return HttpResponse(json.dumps(body), status=status_code, content_type=PROBLEM_CONTENT_TYPE)


def _is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith("/api/")


def handler400(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's 400s: a Host header not in ALLOWED_HOSTS (DisallowedHost), a body over
    DATA_UPLOAD_MAX_MEMORY_SIZE or with too many fields read outside DRF. The detail never
    quotes the Host: it is attacker-chosen text."""
    if not _is_api(request):
        return defaults.bad_request(request, exception)
    if isinstance(exception, RequestDataTooBig):
        return problem_response(
            request,
            status_code=413,
            code="payload_too_large",
            detail="The request body is too large for this endpoint.",
        )
    if isinstance(exception, DisallowedHost):
        detail = "The Host header names a host this service does not answer for."
    else:
        detail = "The request could not be understood."
    return problem_response(request, status_code=400, code="bad_request", detail=detail)


def handler403(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return problem_response(
            request,
            status_code=403,
            code="permission_denied",
            detail="You do not have permission to perform this action.",
        )
    return defaults.permission_denied(request, exception)


def handler404(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return problem_response(
            request,
            status_code=404,
            code="not_found",
            detail=f"No API route matches {request.path_info}; see /api/docs/.",
        )
    return defaults.page_not_found(request, exception)


def handler500(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return problem_response(
            request,
            status_code=500,
            code="server_error",
            detail="An unexpected error occurred; it has been logged. Retry later.",
        )
    return defaults.server_error(request)
