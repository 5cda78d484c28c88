"""Tenants are walls (DESIGN §1.5), checked on every route of the issuer API.

The routes are found by walking the URL configuration, so a route added tomorrow is covered
without touching this file. Each route is classified by its view:

- an *object* route names one object in its path (``/members/<pk>``, ``/seals/<seal_id>/revoke``);
  the view's ``queryset`` model and ``lookup_field`` say which. Issuer B's key on issuer A's object
  must answer exactly what it answers for an object that does not exist (404, or 405 for a
  method the route does not have), as problem+json, and change no row anywhere.
- a *collection* route has no object in its path (``/members``, ``/issuer``): B's answers must
  not mention any of A's objects (even when asked to filter by them or to link to them) and
  A's rows stay as they were.

A route under /api/v1/ whose view is not built on the issuer base, or whose path parameter does
not map to a model the fixtures know, fails the test: it has to be classified before it ships.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.apps import apps
from django.db import models
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from issuers.api.base import IssuerScopedMixin
from issuers.models import DataRequest, ImportJob, Issuer, Programme, WebhookDelivery
from issuers.privacy import data_request_create
from issuers.services import programme_create
from issuers.webhooks import webhook_endpoint_create
from seals.keys import signing_key_active
from seals.models import Notice, SigningKey
from tests.factories import IssuerFactory, MemberFactory, award
from tests.issuers.api_support import PROBLEM, Api

API_PREFIX = "api/v1/"
METHODS = ("get", "post", "put", "patch", "delete", "options")
MARK = "tenant-a-private"
# What a missing object may answer: 404 from the lookup, 405 for a method the route lacks,
# 400 when the body is refused before any lookup (identical for every object id).
ANSWERS_FOR_MISSING = {400, 404, 405}
# OPTIONS describes the route, not the object: it must be byte-for-byte what a missing id gets.
# Floors, so a walk that silently finds fewer routes fails instead of passing on nothing.
MIN_OBJECT_ROUTES = 20
MIN_REQUESTS = 150


def _walk(patterns: list, prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        else:
            yield prefix + str(entry.pattern), entry


def _api_routes() -> list[tuple[str, URLPattern]]:
    return [(route, p) for route, p in _walk(get_resolver().url_patterns) if API_PREFIX in route]


def _view_class(pattern: URLPattern) -> type | None:
    callback = pattern.callback
    return getattr(callback, "cls", None) or getattr(callback, "view_class", None)


def _allowed(pattern: URLPattern, view: type) -> set[str]:
    actions = getattr(pattern.callback, "actions", None)
    if actions:
        return set(actions)
    return {m for m in METHODS if hasattr(view, m)}


def _issuer_path(model: type[models.Model], depth: int = 0) -> str | None:
    """The ORM path from ``model`` to its Issuer (``endpoint__issuer``), None when it has none."""
    if model is Issuer:
        return "pk"
    for field in model._meta.get_fields():
        if field.many_to_one and field.related_model is Issuer:
            return field.name
    if depth < 2:
        for field in model._meta.get_fields():
            if field.many_to_one and field.related_model is not None:
                rest = _issuer_path(field.related_model, depth + 1)
                if rest is not None:
                    return f"{field.name}__{rest}" if rest != "pk" else field.name
    return None


def _tenant_models() -> list[type[models.Model]]:
    return [
        model for label in ("issuers", "seals") for model in apps.get_app_config(label).get_models()
    ]


def _snapshot(issuer: Issuer) -> dict[str, Any]:
    """Every row of ``issuer`` (all columns) and every table's row count."""
    state: dict[str, Any] = {}
    for model in _tenant_models():
        name = model._meta.label
        state[f"{name}#count"] = model.objects.count()
        path = _issuer_path(model)
        if path is not None:
            value = issuer.pk if path == "pk" else issuer
            rows = model.objects.filter(**{path: value}).order_by("pk").values()
            state[name] = [{k: repr(v) for k, v in row.items()} for row in rows]
    return state


def _diff(before: dict[str, Any], after: dict[str, Any], *, counts: bool) -> list[str]:
    return [
        key
        for key in before
        if (counts or not key.endswith("#count")) and before[key] != after.get(key)
    ]


@pytest.fixture
def tenant_a(db) -> dict[type[models.Model], Any]:
    """Issuer A with one object of every kind the API exposes, marked so a leak is visible."""
    issuer = IssuerFactory(name=f"{MARK} association")
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
    job = ImportJob.objects.create(issuer=issuer, format="csv", errors=[{"mark": MARK}])
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


def _request(api: Api, method: str, url: str, payload: dict[str, Any] | None = None):
    if method == "get":
        return api.client.get(url, payload or {})
    body = json.dumps(payload or {})
    return getattr(api.client, method)(url, body, content_type="application/json")


def _mentions_a(response: Any) -> bool:
    """Whether the answer shows A's data; problem+json ``instance`` echoes our own request."""
    try:
        body = json.loads(response.content)
    except ValueError:
        return MARK.encode() in response.content
    if isinstance(body, dict):
        body.pop("instance", None)
    return MARK in json.dumps(body)


def _references(tenant: dict[type[models.Model], Any]) -> dict[str, Any]:
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


def test_another_issuers_key_never_reaches_an_object_on_any_route(tenant_a, figures):
    a = tenant_a[Issuer]
    b = Api(IssuerFactory())
    refs = _references(tenant_a)
    tried = leaks = not_found = 0
    object_routes = collection_routes = 0
    unclassified: list[str] = []
    failures: list[str] = []

    for route, pattern in _api_routes():
        view = _view_class(pattern)
        if view is None or not issubclass(view, IssuerScopedMixin):
            unclassified.append(f"{route}: view is not built on issuers.api.base")
            continue
        kwargs = set(pattern.pattern.regex.groupindex)
        allowed = _allowed(pattern, view)
        if not kwargs:
            collection_routes += 1
            url = "/" + route.replace("^", "").replace("$", "")
            for method in METHODS:
                before = _snapshot(a)
                if method == "get":
                    response = b.client.get(url, refs)
                else:
                    response = _request(b, method, url, refs)
                tried += 1
                if response.status_code >= 500:
                    failures.append(f"{method.upper()} {url}: {response.status_code}")
                if _mentions_a(response):
                    leaks += 1
                    failures.append(f"{method.upper()} {url}: answer mentions issuer A's data")
                changed = _diff(before, _snapshot(a), counts=False)
                if changed:
                    leaks += 1
                    failures.append(f"{method.upper()} {url}: changed A's {changed}")
            continue

        queryset = getattr(view, "queryset", None)
        lookup = getattr(view, "lookup_url_kwarg", None) or getattr(view, "lookup_field", "pk")
        if queryset is None or kwargs != {lookup}:
            unclassified.append(f"{route}: path parameters {sorted(kwargs)} are not {lookup!r}")
            continue
        model = queryset.model
        target = tenant_a.get(model)
        if target is None:
            unclassified.append(f"{route}: no issuer-A fixture object of {model.__name__}")
            continue
        object_routes += 1
        # The route's own methods reach the lookup; a missing object is 404 there. (A body
        # that fails validation is refused before the lookup, the same way for any object.)
        assert allowed, route
        field = getattr(view, "lookup_field", "pk")
        value = getattr(target, field)
        missing = "A" * 22 if field == "public_id" else ("no-such-slug" if field == "slug" else 0)
        template = "/" + route.replace("^", "").replace("$", "")
        url = _fill(template, lookup, value)
        ghost = _fill(template, lookup, missing if missing else 987654321)
        for method in METHODS:
            before = _snapshot(a)
            response = _request(b, method, url, refs)
            tried += 1
            baseline = _request(b, method, ghost, refs)
            where = f"{method.upper()} {url}"
            not_found += response.status_code == 404
            if response.status_code != baseline.status_code:
                leaks += 1
                failures.append(
                    f"{where}: {response.status_code}, a missing one gives {baseline.status_code}"
                )
            elif method == "options" and response.content != baseline.content:
                leaks += 1
                failures.append(f"{where}: describes the object unlike a missing one")
            elif method != "options" and response.status_code not in ANSWERS_FOR_MISSING:
                failures.append(f"{where}: {response.status_code} for another issuer's object")
            elif response.status_code >= 400 and response["Content-Type"] != PROBLEM:
                failures.append(f"{where}: {response['Content-Type']}, not problem+json")
            if _mentions_a(response):
                leaks += 1
                failures.append(f"{where}: answer mentions issuer A's data")
            changed = _diff(before, _snapshot(a), counts=True)
            if changed:
                leaks += 1
                failures.append(f"{where}: changed {changed}")

    figures(
        "tenant matrix",
        object_routes=object_routes,
        collection_routes=collection_routes,
        requests=tried,
        not_found=not_found,
        leaks=leaks,
        unclassified=len(unclassified),
    )
    print(f"tenant matrix: {tried} requests, {leaks} leaks, {len(unclassified)} unclassified")
    assert not unclassified, unclassified
    assert not failures, "\n".join(failures)
    assert object_routes >= MIN_OBJECT_ROUTES, object_routes
    assert tried >= MIN_REQUESTS, tried


def _fill(template: str, kwarg: str, value: Any) -> str:
    """``/api/v1/members/(?P<pk>[^/.]+)/x`` or ``.../<int:pk>/x`` with the value in place."""
    import re

    filled = re.sub(rf"\(\?P<{kwarg}>[^)]*\)", str(value), template)
    filled = re.sub(rf"<(?:\w+:)?{kwarg}>", str(value), filled)
    assert "(?P<" not in filled and "<" not in filled, filled
    return filled


def test_the_walk_finds_every_issuer_resource_of_the_schema(client, db):
    """The matrix walks the resolver; the OpenAPI schema must not know a path it missed."""
    import re

    import yaml

    schema = yaml.safe_load(client.get("/api/schema/").content)
    walked = {
        re.sub(r"\(\?P<(\w+)>[^)]*\)|<(?:\w+:)?(\w+)>", "{}", "/" + r)
        .replace("^", "")
        .replace("$", "")
        for r, _ in _api_routes()
    }
    documented = {re.sub(r"\{\w+\}", "{}", path) for path in schema["paths"]}
    assert documented <= walked, documented - walked
