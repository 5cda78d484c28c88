"""What the tenant-isolation tests share: issuer A's objects, the walk of the issuer API's routes,
and the before/after picture of A's rows.

tests/security/test_tenant_matrix.py walks every route with hand-made requests;
tests/security/test_fuzz.py replays every request schemathesis generates with A's ids in the
path and issuer B's key. Both classify routes the same way, here, so a route added tomorrow is
covered by both without touching either.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.apps import apps
from django.db import models
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from effects.webhooks import webhook_endpoint_create
from issuers.api.base import IssuerScopedMixin
from issuers.models import DataRequest, ImportJob, Issuer, Programme, WebhookDelivery
from issuers.services import programme_create
from privacy.services import data_request_create
from seals.keys import signing_key_active
from seals.models import Notice, SigningKey
from tests.factories import MemberFactory, award

API_PREFIX = "api/v1/"
METHODS = ("get", "post", "put", "patch", "delete", "options")
# Written into every object of issuer A, so any answer that shows A's data is visible.
MARK = "tenant-a-private"

Tenant = dict[type[models.Model], Any]


@dataclass(frozen=True)
class ObjectRoute:
    """A route naming one object in its path: ``/api/v1/members/{}/erase`` looks up a Member."""

    route: str
    pattern: URLPattern
    view: type
    kwarg: str
    model: type[models.Model]
    field: str

    @property
    def template(self) -> str:
        """The path with ``{}`` for the object, as the OpenAPI paths read once normalised."""
        return normalise(self.route)

    def value(self, tenant: Tenant) -> Any:
        return getattr(tenant[self.model], self.field)

    def missing(self) -> Any:
        """A value of the same shape that names no object at all."""
        return {"public_id": "A" * 22, "slug": "no-such-slug"}.get(self.field, 987654321)

    def url(self, value: Any) -> str:
        return self.template.replace("{}", str(value))


def populate(issuer: Issuer) -> Tenant:
    """One object of every kind the API exposes for ``issuer``, each marked with MARK."""
    member = MemberFactory(
        issuer=issuer, external_ref=f"{MARK}-ref", legal_name=f"{MARK} member Ltd"
    )
    programme = programme_create(issuer=issuer, slug=f"{MARK}-programme", name=f"{MARK} prog")
    seal = award(member, programme=programme, days=10)
    endpoint = webhook_endpoint_create(issuer=issuer, url=f"https://{MARK}.example/hook").endpoint
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint, event_id=uuid.uuid4(), event_type="seal.revoked", payload={"mark": MARK}
    )
    notice = Notice.objects.create(
        seal=seal,
        kind="expiry_7d",
        cycle=seal.expires_at.date(),
        due_at=timezone.now() + timedelta(days=3),
    )
    data_request = data_request_create(
        issuer=issuer, kind="access", actor="test", member=member, requester_name=MARK
    )
    job = ImportJob.objects.create(
        issuer=issuer,
        format="csv",
        errors=[{"row": 1, "field": "legal_name", "message": MARK, "code": "invalid"}],
    )
    return {
        Issuer: issuer,
        SigningKey: signing_key_active(issuer),
        type(member): member,
        Programme: programme,
        type(seal): seal,
        type(endpoint): endpoint,
        WebhookDelivery: delivery,
        Notice: notice,
        DataRequest: data_request,
        ImportJob: job,
    }


def references(tenant: Tenant) -> dict[str, Any]:
    """Every way a body or query could point at one of A's objects."""
    refs: dict[str, Any] = {}
    for model, obj in tenant.items():
        name = model._meta.model_name
        refs[name] = obj.pk
        refs[f"{name}_id"] = obj.pk
    refs["programme"] = tenant[Programme].slug
    refs["seal"] = tenant[type(tenant[Notice].seal)].public_id
    refs["seal_id"] = refs["seal"]
    refs["endpoint"] = tenant[WebhookDelivery].endpoint_id
    refs["external_ref"] = f"{MARK}-ref"
    return refs


def _walk(patterns: list, prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        else:
            yield prefix + str(entry.pattern), entry


def api_routes() -> list[tuple[str, URLPattern]]:
    return [(route, p) for route, p in _walk(get_resolver().url_patterns) if API_PREFIX in route]


def normalise(route: str) -> str:
    """``api/v1/members/(?P<pk>[^/.]+)$``, ``<int:pk>`` or ``{id}`` all become ``{}``."""
    path = "/" + route.replace("^", "").replace("$", "").lstrip("/")
    return re.sub(r"\(\?P<\w+>[^)]*\)|<(?:\w+:)?\w+>|\{\w+\}", "{}", path)


def view_class(pattern: URLPattern) -> type | None:
    callback = pattern.callback
    return getattr(callback, "cls", None) or getattr(callback, "view_class", None)


def allowed_methods(pattern: URLPattern, view: type) -> set[str]:
    """The methods the route answers; a view's ``http_method_names`` narrows a router's map."""
    actions = getattr(pattern.callback, "actions", None)
    methods = set(actions) if actions else {m for m in METHODS if hasattr(view, m)}
    return methods & set(getattr(view, "http_method_names", METHODS))


def classify(route: str, pattern: URLPattern, tenant: Tenant) -> ObjectRoute | str | None:
    """An ObjectRoute, None for a collection route, or why the route cannot be classified."""
    view = view_class(pattern)
    if view is None or not issubclass(view, IssuerScopedMixin):
        return f"{route}: view is not built on issuers.api.base"
    kwargs = set(pattern.pattern.regex.groupindex)
    if not kwargs:
        return None
    queryset = getattr(view, "queryset", None)
    lookup = getattr(view, "lookup_url_kwarg", None) or getattr(view, "lookup_field", "pk")
    if queryset is None or kwargs != {lookup}:
        return f"{route}: path parameters {sorted(kwargs)} are not {lookup!r}"
    if queryset.model not in tenant:
        return f"{route}: no issuer-A fixture object of {queryset.model.__name__}"
    return ObjectRoute(
        route=route,
        pattern=pattern,
        view=view,
        kwarg=lookup,
        model=queryset.model,
        field=getattr(view, "lookup_field", "pk"),
    )


def issuer_path(model: type[models.Model], depth: int = 0) -> str | None:
    """The ORM path from ``model`` to its Issuer (``endpoint__issuer``), None when it has none."""
    if model is Issuer:
        return "pk"
    for field in model._meta.get_fields():
        if field.many_to_one and field.related_model is Issuer:
            return field.name
    if depth < 2:
        for field in model._meta.get_fields():
            if field.many_to_one and field.related_model is not None:
                rest = issuer_path(field.related_model, depth + 1)
                if rest is not None:
                    return f"{field.name}__{rest}" if rest != "pk" else field.name
    return None


def _tenant_models() -> list[type[models.Model]]:
    return [
        model for label in ("issuers", "seals") for model in apps.get_app_config(label).get_models()
    ]


def snapshot(issuer: Issuer, *, besides: Issuer | None = None) -> dict[str, Any]:
    """Every row of ``issuer`` (all columns, ``updated_at`` included) and every table's count.

    With ``besides``, the counts leave that issuer's own rows out: the caller may write its own
    bookkeeping (an Idempotency-Key stores the answer it got, even a 404) and nothing else.
    """
    state: dict[str, Any] = {}
    for model in _tenant_models():
        name = model._meta.label
        path = issuer_path(model)
        everyone = model.objects.all()
        if besides is not None and path is not None:
            everyone = everyone.exclude(**{path: besides.pk if path == "pk" else besides})
        state[f"{name}#count"] = everyone.count()
        if path is not None:
            value = issuer.pk if path == "pk" else issuer
            rows = model.objects.filter(**{path: value}).order_by("pk").values()
            state[name] = [{k: repr(v) for k, v in row.items()} for row in rows]
    return state


def changed(before: dict[str, Any], after: dict[str, Any], *, counts: bool) -> list[str]:
    return [
        key
        for key in before
        if (counts or not key.endswith("#count")) and before[key] != after.get(key)
    ]


def mentions_tenant(content: bytes, sent: dict[str, Any] | None = None) -> bool:
    """Whether an answer shows A's data. An echo of the request's own values is not A's data:
    problem+json ``instance`` repeats the URL, ``detail`` may quote a slug that was sent."""
    try:
        body = json.loads(content)
    except ValueError:
        return MARK.encode() in content
    if isinstance(body, dict):
        body.pop("instance", None)
    text = json.dumps(body, ensure_ascii=False)
    for value in (sent or {}).values():
        if isinstance(value, str) and MARK in value:
            text = text.replace(value, "")
    return MARK in text
