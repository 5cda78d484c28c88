"""The base every issuer API view builds on. Use it for every endpoint under /api/v1/.

    from issuers.api.base import IssuerAPIView, IssuerViewSet

    class WidgetViewSet(IssuerViewSet, mixins.ListModelMixin, ...):
        queryset = Widget.objects.none()     # the model (router, schema); rows: get_queryset

What the base decides once, so no view has to:
- authentication: ``Authorization: Bearer ts_live_...`` only (issuers.api.authentication);
  ``request.auth`` is the ApiKey, ``request.issuer`` the calling Issuer, ``request.user`` an
  ApiClient; missing or bad key is 401 problem+json with ``WWW-Authenticate``.
- scopes (issuers.api.permissions): ``read`` for GET/HEAD/OPTIONS, ``write`` otherwise;
  ``required_scopes = {"POST": "read"}`` on a view overrides one method.
- tenancy: once the key is authenticated, the request runs inside ``issuer_scope(request.issuer)``
  (config.tenancy), so every query of an issuer-owned model, here or in the services, sees only
  the calling issuer's rows, and one made outside a scope fails. Another issuer's object is a
  404. ``queryset`` names the model only: built at import, outside any scope, it is never read;
  ``get_queryset`` reads ``Model.objects`` inside the scope (override it from
  ``super().get_queryset()`` to add select_related, filters).
- errors: RFC 9457 problem+json (config.problems; raise Conflict/Unprocessable/... there).
- pagination: cursor (``?limit=`` up to 200, ``?cursor=``); answer ``{next, previous, results}``.
- throttling: per API key through the cache (REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["api_key"],
  default DEFAULT_RATE), 429 with ``Retry-After``.
- ``Idempotency-Key`` on POST (issuers.api.idempotency): claimed before the view runs; a repeat
  replays the answer (waiting briefly for one in flight, else 409), another body is 422.
- bodies: JSON only unless a view sets ``parser_classes``; over ``max_body_bytes`` is 413.
- timestamps: RFC 3339 in UTC (``2026-01-31T12:00:00Z``), DRF's default with TIME_ZONE=UTC.
- the OpenAPI schema documents the problem responses of every operation (issuers.api.schema).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from typing import Any, TypeVar, cast

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Field, Model, QuerySet, UniqueConstraint
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from rest_framework import generics, viewsets
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer
from rest_framework.throttling import SimpleRateThrottle

from config.problems import PayloadTooLarge, exception_handler
from config.tenancy import issuer_scope
from issuers.api import idempotency
from issuers.api.authentication import ApiKeyAuthentication
from issuers.api.permissions import HasApiKeyScope
from issuers.api.schema import IssuerAutoSchema
from issuers.models import ApiKey, Issuer

DEFAULT_RATE = "1200/minute"
_M = TypeVar("_M", bound=Model)


class ApiCursorPagination(CursorPagination):
    page_size = 50
    page_size_query_param = "limit"
    max_page_size = 200
    # created_at first for a stable, index-friendly cursor; id breaks ties.
    ordering = ("-created_at", "-id")

    def get_ordering(self, request: Request, queryset: QuerySet, view: Any) -> tuple[str, ...]:
        # DRF's cursor is the first key's value plus an offset through the rows sharing it,
        # which is only right if those rows always come back in one order: an ?ordering= on a
        # non-unique key (display_name) gets id as the tie-breaker, in the same direction, so
        # the page is one range of the (issuer, key, id) index (issuers.models.Member.Meta).
        ordering = super().get_ordering(request, queryset, view)
        last = ordering[-1]
        if last.lstrip("-") in ("id", "pk") or _unique_in_issuer(
            queryset.model, ordering, getattr(view, "issuer_field", "issuer")
        ):
            return ordering
        return (*ordering, "-id" if last.startswith("-") else "id")

    def decode_cursor(self, request: Request) -> Any:
        # DRF answers a forged cursor with 404, which reads as "no such list"; it is bad input.
        try:
            return super().decode_cursor(request)
        except NotFound as exc:
            raise ValidationError({"cursor": [str(exc.detail)]}) from exc


def _unique_in_issuer(model: type[Model], ordering: tuple[str, ...], issuer_field: str) -> bool:
    """Whether one key alone is unique within an issuer (e.g. the member's external_ref)."""
    if len(ordering) != 1:
        return False
    name = ordering[0].lstrip("-")
    field = model._meta.get_field(name)
    if isinstance(field, Field) and field.unique:
        return True
    return any(
        isinstance(constraint, UniqueConstraint)
        and constraint.condition is None
        and set(constraint.fields) == {issuer_field, name}
        for constraint in model._meta.constraints
    )


class ApiKeyRateThrottle(SimpleRateThrottle):
    """One bucket per API key, kept in the shared cache so every web node counts together."""

    scope = "api_key"

    def get_rate(self) -> str:
        # REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["api_key"] when set, else this default.
        rates = settings.REST_FRAMEWORK.get("DEFAULT_THROTTLE_RATES") or {}
        return rates.get(self.scope) or DEFAULT_RATE

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if request.auth is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}


class _Replay(Exception):
    def __init__(self, response: HttpResponse) -> None:
        self.response = response


class IssuerRequest(Request):
    """The request an issuer API view handles once ``initial()`` has run, as the type checker
    sees it: DRF builds a plain ``Request`` (it has no hook to choose the class), and the base
    sets these attributes on it. Only for annotations (``def post(self, request:
    IssuerRequest)``); nothing constructs or isinstance-checks it. A request DRF clones for
    OPTIONS carries ``auth`` but not the attributes set in ``initial()``."""

    auth: ApiKey  # the authenticated key (ApiKeyAuthentication; the permission refuses None)
    issuer: Issuer  # the key's issuer, whose scope the request runs in
    idempotency: idempotency.Claim | None  # the claimed Idempotency-Key of a POST, if any


class IssuerScopedMixin(generics.GenericAPIView):
    request: IssuerRequest
    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [HasApiKeyScope]
    throttle_classes = [ApiKeyRateThrottle]
    parser_classes = [JSONParser]
    pagination_class = ApiCursorPagination
    schema = IssuerAutoSchema()
    max_body_bytes: int | None = None  # default settings.DATA_UPLOAD_MAX_MEMORY_SIZE

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        # The tenant scope opened in initial() lasts to the end of the response (handler,
        # exception handling, finalize_response) and is closed however the request ends.
        with ExitStack() as self._tenant:
            return super().dispatch(request, *args, **kwargs)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # authentication, scopes, throttling
        # From here on it is an IssuerRequest: the permission let nothing but an ApiKey in.
        request = cast(IssuerRequest, request)
        request.issuer = request.auth.issuer
        self._tenant.enter_context(issuer_scope(request.issuer))
        limit = self.max_body_bytes or settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit:
            raise PayloadTooLarge(
                f"The request body is {length} bytes; this endpoint accepts at most {limit}."
            )
        request.idempotency = None
        if request.method == "POST":
            key = idempotency.idempotency_key_of(request)
            if key is not None:
                outcome = idempotency.idempotency_claim(
                    api_key=request.auth,
                    key=key,
                    fingerprint=idempotency.request_fingerprint(request),
                )
                if not isinstance(outcome, idempotency.Claim):
                    raise _Replay(outcome)
                request.idempotency = outcome

    def get_exception_handler(self) -> Callable[..., Response | None]:
        return exception_handler

    # A replay answers with the stored HttpResponse, which DRF's dispatch hands on to
    # finalize_response like any other (it accepts every HttpResponseBase); the stubs say the
    # handler returns a Response only.
    def handle_exception(self, exc: Exception) -> Response | HttpResponse:  # type: ignore[override]
        if isinstance(exc, _Replay):
            return exc.response
        try:
            return super().handle_exception(exc)
        except BaseException:
            # Not a client error: Django answers 500. Give the key back, so a retry runs again
            # instead of waiting for an answer that will never be stored.
            claim = getattr(self.request, "idempotency", None)
            if claim is not None:
                idempotency.idempotency_release(claim)
            raise

    # Every answer passes through here, the replayed HttpResponse and streamed exports
    # included (DRF asserts only HttpResponseBase); the stubs say Response, as above.
    def finalize_response(  # type: ignore[override]
        self, request: Request, response: HttpResponseBase, *args: Any, **kwargs: Any
    ) -> HttpResponseBase:
        final: HttpResponseBase = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[arg-type]
        claim = getattr(request, "idempotency", None)
        if claim is not None:
            if isinstance(final, Response):
                final.render()
            if isinstance(final, HttpResponse):
                idempotency.idempotency_store(claim=claim, response=final)
            else:  # a streamed answer cannot be stored: do not hold the key
                idempotency.idempotency_release(claim)
        return final

    def get_queryset(self) -> QuerySet[Any]:
        if self.queryset is None:
            raise ImproperlyConfigured(f"{type(self).__name__} names no model in `queryset`.")
        # Read now, inside the request's scope, which filters it to the calling issuer.
        return self.queryset.model._default_manager.all()


def updated_instance(serializer: BaseSerializer[_M]) -> _M:
    """The object an update's serializer holds: ``perform_update`` always has one
    (UpdateModelMixin builds the serializer around ``get_object()``)."""
    if serializer.instance is None:
        raise ImproperlyConfigured("perform_update was called with no object to update.")
    return serializer.instance


class IssuerAPIView(IssuerScopedMixin):
    """One operation per view (or a few on one resource)."""


class IssuerViewSet(IssuerScopedMixin, viewsets.GenericViewSet):
    """A resource with the standard list/retrieve/create/update/destroy mixins."""
