"""OpenAPI: every operation documents its problem+json answers and the Idempotency-Key header.

A view adds statuses to the defaults with ``problem_statuses = {409}`` (every operation of the
view) or ``problem_statuses = {"create": {409}}`` (per viewset action, or per method on a plain
view). 400 is documented wherever the operation has a body or a query parameter.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from config.problems import PROBLEM_CONTENT_TYPE, problem_body


class ProblemFieldErrorSerializer(serializers.Serializer):
    field = serializers.CharField(allow_null=True, help_text="Path of the field; null: the body.")
    message = serializers.CharField()
    code = serializers.CharField()


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details."""

    type = serializers.URLField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    instance = serializers.CharField()
    code = serializers.CharField(help_text="Machine-readable error code.")
    # A declared field: DRF's metaclass moves it into `fields`, so it does not shadow the
    # `errors` property at run time, which the stubs cannot know.
    errors = ProblemFieldErrorSerializer(  # type: ignore[assignment]
        many=True, required=False, help_text="400 only: one entry per invalid field."
    )
    required_scope = serializers.CharField(required=False, help_text="403 insufficient_scope.")
    retry_after = serializers.IntegerField(required=False, help_text="429: seconds to wait.")


_PROBLEMS: dict[int, tuple[str, str, str, dict[str, Any]]] = {
    400: (
        "Invalid request: one entry per field in `errors`.",
        "validation_error",
        "The request has 2 errors; see 'errors' for each field.",
        {
            "errors": [
                {"field": "legal_name", "message": "This field is required.", "code": "required"},
                {
                    "field": "domains[0]",
                    "message": "'https://example.com/' is not a bare hostname: give it without "
                    "scheme, port or path (example.com, not https://example.com/).",
                    "code": "invalid",
                },
            ]
        },
    ),
    401: (
        "Missing, malformed, invalid or revoked API key (`WWW-Authenticate: Bearer`).",
        "authentication_failed",
        "The API key is invalid or has been revoked.",
        {},
    ),
    403: (
        "The API key lacks the scope this method needs.",
        "insufficient_scope",
        "This API key lacks the 'write' scope. Create a key with the 'write' scope "
        "(manage.py createapikey --scope write) to call this endpoint.",
        {"required_scope": "write"},
    ),
    404: (
        "No such object for the calling issuer (other issuers' objects are 404 too).",
        "not_found",
        "No such object for this issuer.",
        {},
    ),
    409: (
        "The action is not allowed in the object's current state.",
        "seal_state_conflict",
        "The seal is already revoked; revocation is final.",
        {},
    ),
    413: (
        "The body is larger than this endpoint accepts.",
        "payload_too_large",
        "The request body is 6291456 bytes; this endpoint accepts at most 5242880.",
        {},
    ),
    415: (
        "The body's media type is not accepted here.",
        "unsupported_media_type",
        'Unsupported media type "text/plain" in request.',
        {},
    ),
    422: (
        "The Idempotency-Key was already used with a different request.",
        "idempotency_key_reused",
        "Idempotency-Key 'abc' was already used with a different request; use a new key for a "
        "new request.",
        {},
    ),
    429: (
        "Rate limit for this API key exceeded; wait `Retry-After` seconds.",
        "throttled",
        "Rate limit exceeded for this API key; retry in 12 s.",
        {"retry_after": 12},
    ),
}


class IssuerAutoSchema(AutoSchema):
    def _problem_statuses(self, operation: dict[str, Any]) -> set[int]:
        statuses = {401, 403, 429}
        if "{" in self.path:
            statuses.add(404)
        if self.method in ("POST", "PUT", "PATCH"):
            statuses |= {400, 413, 415}
        if self.method == "POST":
            statuses.add(422)
        if any(p.get("in") == "query" for p in operation.get("parameters", [])):
            # A malformed ?cursor=, ?limit=, filter or option: every query parameter is
            # validated, so any operation taking one can answer 400 (schemathesis, ST103).
            statuses.add(400)
        extra: set[int] | dict[str, set[int]] = getattr(self.view, "problem_statuses", set())
        if isinstance(extra, dict):
            # Per operation: {"create": {409}} on a viewset (its action), {"post": {409}} on a
            # view (its method), so a list never claims the 409 of its create.
            key = getattr(self.view, "action", None) or self.method.lower()
            extra = extra.get(key, set())
        return statuses | set(extra)

    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        # Here rather than in _get_response_bodies: the statuses depend on the parameters.
        responses = operation.setdefault("responses", {})
        component = self.resolve_serializer(ProblemSerializer, "response")
        for status_code in sorted(self._problem_statuses(operation)):
            if str(status_code) in responses:
                continue
            description, code, detail, extra = _PROBLEMS[status_code]
            example = problem_body(
                status_code=status_code, code=code, detail=detail, instance=self.path, **extra
            )
            responses[str(status_code)] = {
                "description": description,
                "content": {
                    PROBLEM_CONTENT_TYPE: {
                        "schema": component.ref,
                        "examples": {code: {"value": example}},
                    }
                },
            }
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    def get_override_parameters(self) -> list[Any]:
        params = list(super().get_override_parameters())
        if self.method == "POST":
            params.append(
                OpenApiParameter(
                    "Idempotency-Key",
                    OpenApiTypes.STR,
                    OpenApiParameter.HEADER,
                    required=False,
                    description="Retry-safe POST: the same key and body replay the first "
                    "answer (`Idempotent-Replayed: true`); the same key with another body is "
                    "422. Kept 24 hours.",
                )
            )
        return params
