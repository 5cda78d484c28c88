"""Tenants are walls (DESIGN §1.5), checked on every route of the issuer API.

The routes are found by walking the URL configuration, so a route added tomorrow is covered
without touching this file. Each route is classified by its view (tests/security/tenancy.py):

- an *object* route names one object in its path (``/members/<pk>``, ``/seals/<seal_id>/revoke``);
  the view's ``queryset`` model and ``lookup_field`` say which. Issuer B's key on issuer A's object
  must answer exactly what it answers for an object that does not exist: 404 from the lookup
  for every method the route has, 405 for the others, as problem+json, and change no row
  anywhere. The body is schema-valid (built from the route's OpenAPI request schema, which is
  generated from its serializer), so a refusal of the body can never stand in for the lookup:
  a 400 on A's object means the route was not probed, and fails.
- a *collection* route has no object in its path (``/members``, ``/issuer``): B's answers must
  not mention any of A's objects (even when asked to filter by them or to link to them) and
  A's rows stay as they were.

A route under /api/v1/ whose view is not built on the issuer base, or whose path parameter does
not map to a model the fixtures know, fails the test: it has to be classified before it ships.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
import yaml
from django.utils import timezone

from issuers.models import Issuer
from tests.api_support import PROBLEM, Api
from tests.factories import IssuerFactory
from tests.security.tenancy import (
    MARK,
    METHODS,
    ObjectRoute,
    Tenant,
    allowed_methods,
    api_routes,
    changed,
    classify,
    mentions_tenant,
    normalise,
    populate,
    references,
    snapshot,
)

pytestmark = pytest.mark.api_sweep

# Floors, so a walk that silently finds fewer routes fails instead of passing on nothing.
MIN_OBJECT_ROUTES = 20
MIN_REQUESTS = 150
MIN_LOOKUPS = 25


@pytest.fixture
def tenant_a(db) -> Tenant:
    """Issuer A with one object of every kind the API exposes, marked so a leak is visible."""
    return populate(IssuerFactory(name=f"{MARK} association"))


@pytest.fixture
def request_schemas(client) -> dict[tuple[str, str], dict[str, Any]]:
    """(normalised path, method) -> the JSON request schema the OpenAPI document declares."""
    document = yaml.safe_load(client.get("/api/schema/").content)
    found = {}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            content = (operation.get("requestBody") or {}).get("content", {})
            if "application/json" in content:
                schema = _resolve(document, content["application/json"]["schema"])
                found[normalise(path), method] = {"document": document, "schema": schema}
    return found


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        node: Any = document
        for part in schema["$ref"].lstrip("#/").split("/"):
            node = node[part]
        schema = node
    return schema


def _valid(document: dict[str, Any], schema: dict[str, Any]) -> Any:
    """The smallest instance of ``schema`` a serializer accepts: required fields, plain values."""
    schema = _resolve(document, schema)
    if "enum" in schema:
        return next(value for value in schema["enum"] if value is not None)
    kind, fmt = schema.get("type"), schema.get("format")
    if kind == "object" or "properties" in schema:
        properties = schema.get("properties", {})
        return {name: _valid(document, properties[name]) for name in schema.get("required", [])}
    if kind == "array":
        return []
    if kind == "boolean":
        return False
    if kind in ("integer", "number"):
        return max(1, schema.get("minimum", 1))
    if fmt == "date-time":
        return (timezone.now() + timedelta(days=30)).isoformat()
    if fmt == "date":
        return (timezone.now() + timedelta(days=30)).date().isoformat()
    if fmt == "uri":
        return "https://example.org/"
    if fmt == "email":
        return "someone@example.org"
    return "x" * max(1, schema.get("minLength", 1))


def _body(
    schemas: dict[tuple[str, str], dict[str, Any]], route: ObjectRoute, method: str, refs: dict
) -> dict[str, Any]:
    """A valid body where the route's schema declares one, else A's references everywhere.

    The serializers refuse unknown fields, so the references cannot ride along a valid body;
    the collection routes (and the bodiless methods) still carry them.
    """
    declared = schemas.get((route.template, method))
    if declared is None:
        return refs
    return _valid(declared["document"], declared["schema"])


def _request(api: Api, method: str, url: str, payload: dict[str, Any] | None = None):
    if method == "get":
        return api.client.get(url, payload or {})
    body = json.dumps(payload or {})
    return getattr(api.client, method)(url, body, content_type="application/json")


def test_another_issuers_key_never_reaches_an_object_on_any_route(
    tenant_a, request_schemas, figures
):
    a = tenant_a[Issuer]
    b = Api(IssuerFactory())
    refs = references(tenant_a)
    tried = leaks = lookups = refused_first = 0
    object_routes = collection_routes = 0
    unclassified: list[str] = []
    failures: list[str] = []

    for route, pattern in api_routes():
        kind = classify(route, pattern, tenant_a)
        if isinstance(kind, str):
            unclassified.append(kind)
            continue
        if kind is None:
            collection_routes += 1
            url = "/" + route.replace("^", "").replace("$", "")
            for method in METHODS:
                before = snapshot(a)
                response = _request(b, method, url, refs)
                tried += 1
                if response.status_code >= 500:
                    failures.append(f"{method.upper()} {url}: {response.status_code}")
                if mentions_tenant(response.content, refs):
                    leaks += 1
                    failures.append(f"{method.upper()} {url}: answer mentions issuer A's data")
                diff = changed(before, snapshot(a), counts=False)
                if diff:
                    leaks += 1
                    failures.append(f"{method.upper()} {url}: changed A's {diff}")
            continue

        object_routes += 1
        allowed = allowed_methods(pattern, kind.view)
        assert allowed, route
        url, ghost = kind.url(kind.value(tenant_a)), kind.url(kind.missing())
        for method in METHODS:
            body = _body(request_schemas, kind, method, refs)
            before = snapshot(a)
            response = _request(b, method, url, body)
            tried += 1
            baseline = _request(b, method, ghost, body)
            where = f"{method.upper()} {url}"
            lookups += response.status_code == 404
            if response.status_code != baseline.status_code:
                leaks += 1
                failures.append(
                    f"{where}: {response.status_code}, a missing one gives {baseline.status_code}"
                )
            elif method == "options":
                # OPTIONS describes the route, not the object: byte for byte a missing id's.
                if response.content != baseline.content:
                    leaks += 1
                    failures.append(f"{where}: describes the object unlike a missing one")
            elif method in allowed and response.status_code != 404:
                # 400 here: the body was refused before the lookup, so nothing was probed.
                refused_first += response.status_code == 400
                failures.append(f"{where}: {response.status_code}, not the lookup's 404")
            elif method not in allowed and response.status_code != 405:
                failures.append(f"{where}: {response.status_code} for a method it lacks")
            if response.status_code >= 400 and response["Content-Type"] != PROBLEM:
                failures.append(f"{where}: {response['Content-Type']}, not problem+json")
            if mentions_tenant(response.content, refs):
                leaks += 1
                failures.append(f"{where}: answer mentions issuer A's data")
            diff = changed(before, snapshot(a), counts=True)
            if diff:
                leaks += 1
                failures.append(f"{where}: changed {diff}")

    figures(
        "tenant matrix",
        object_routes=object_routes,
        collection_routes=collection_routes,
        requests=tried,
        reached_lookup_404=lookups,
        refused_before_lookup=refused_first,
        leaks=leaks,
        unclassified=len(unclassified),
    )
    print(
        f"tenant matrix: {tried} requests, {lookups} reached the lookup (404), "
        f"{refused_first} refused before it, {leaks} leaks, {len(unclassified)} unclassified"
    )
    assert not unclassified, unclassified
    assert not failures, "\n".join(failures)
    assert object_routes >= MIN_OBJECT_ROUTES, object_routes
    assert tried >= MIN_REQUESTS, tried
    assert lookups >= MIN_LOOKUPS, lookups


def test_the_walk_finds_every_issuer_resource_of_the_schema(client, db):
    """The matrix walks the resolver; the OpenAPI schema must not know a path it missed."""
    schema = yaml.safe_load(client.get("/api/schema/").content)
    walked = {normalise(route) for route, _ in api_routes()}
    documented = {normalise(path) for path in schema["paths"]}
    assert documented <= walked, documented - walked
