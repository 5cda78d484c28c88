"""Schemathesis against the issuer API's OpenAPI schema, in-process on the test database.

Every operation of /api/schema/ is fuzzed with generated valid and invalid requests, sent with
issuer A's key (the first identity of the auth document that schemathesis.toml names). Every
answer must be below 500 and match the schema: status codes, content types and bodies.

Then each generated request of an operation that names an object in its path is replayed with
one of A's real object ids in that place (tests/security/tenancy.py maps the path to the model
by walking the URL configuration) and issuer B's key: the *cross-issuer probe*. It must answer
404 problem+json (or, when the body or query is refused before the lookup, exactly what a
missing id gets), never mention A's data, and leave every row as it was. Schemathesis' own
``object_level_authorization`` check cannot do this here: it replays only reads of values it
captured from earlier responses or stateful links, and the per-operation tests of
``schema.parametrize()`` capture none (instrumented: 5,022 check calls, 0 probes).
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import tempfile
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from config.wsgi import application
from issuers.models import ApiKey, Issuer
from issuers.services import API_KEY_PREFIX
from tests.factories import IssuerFactory, MemberFactory, award
from tests.security.tenancy import (
    MARK,
    ObjectRoute,
    Tenant,
    api_routes,
    changed,
    classify,
    mentions_tenant,
    normalise,
    populate,
    snapshot,
)

pytestmark = pytest.mark.api_sweep

TALLY: Counter[str] = Counter()
MIN_OPERATIONS = 40
PROBLEM = "application/problem+json"
# What a refused body or query may answer instead of the lookup's 404, provided a missing id
# gets the very same status (so the answer says nothing about A's object).
REFUSED_BEFORE_LOOKUP = {400, 413, 415, 422}
# Fresh keys per run, known before the schema loads (schemathesis reads the auth document at
# load time); the fixture below stores them for two issuers on the test database.
PEERS = ("issuer-a", "issuer-b")
KEYS = {name: (secrets.token_hex(6), secrets.token_urlsafe(32)) for name in PEERS}
_AUTH = Path(tempfile.mkdtemp(prefix="trustseal-fuzz-")) / "auth.json"
_AUTH.write_text(
    json.dumps(
        {
            "auth": [
                {
                    "name": name,
                    "fixedHeaders": [
                        {"name": "Authorization", "value": f"Bearer {API_KEY_PREFIX}{p}_{s}"}
                    ],
                }
                for name, (p, s) in KEYS.items()
            ]
        }
    )
)
os.environ.setdefault("TRUSTSEAL_FUZZ_AUTH", str(_AUTH))
# Not failures here: the API is deliberately lenient where the schema is strict (an invalid or
# oversized ``?limit=`` falls back to the default or the cap, tests/issuers), and a valid
# request may meet a 404/409 for an id or a state the generator cannot know.
LENIENCY_CHECKS = [negative_data_rejection, positive_data_acceptance]
schema = schemathesis.openapi.from_wsgi("/api/schema/", application)


def _bearer(name: str) -> str:
    prefix, secret = KEYS[name]
    return f"Bearer {API_KEY_PREFIX}{prefix}_{secret}"


@dataclass
class World:
    a: Issuer
    b: Issuer
    tenant: Tenant
    routes: dict[str, ObjectRoute]


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """As Django's test client does: the app's request signals must not close the connection
    that holds the test transaction (schemathesis calls the WSGI app directly)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture(autouse=True)
def _no_throttle(settings):
    """The per-key throttle is tested in tests/issuers; here a 429 would hide the answer."""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api_key": "1000000/minute"},
    }


@pytest.fixture(autouse=True)
def two_issuers(db, _keep_the_test_connection) -> World:
    """Issuers A and B with their keys; A also owns one object of every kind, marked."""
    issuers = {}
    for name, (prefix, secret) in KEYS.items():
        issuer = IssuerFactory(name=f"{MARK} {name}" if name == "issuer-a" else name)
        award(MemberFactory(issuer=issuer))
        ApiKey.objects.create(
            issuer=issuer,
            name="fuzz",
            prefix=prefix,
            secret_hash=hashlib.sha256(secret.encode()).hexdigest(),
            scopes=["read", "write"],
        )
        issuers[name] = issuer
    tenant = populate(issuers["issuer-a"])
    routes = {}
    for route, pattern in api_routes():
        kind = classify(route, pattern, tenant)
        if isinstance(kind, ObjectRoute):
            routes[kind.template] = kind
    return World(a=issuers["issuer-a"], b=issuers["issuer-b"], tenant=tenant, routes=routes)


@schema.parametrize()
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,
    ],
)
def test_no_operation_fails_or_breaks_its_schema(case, two_issuers, figures):
    TALLY["operations:" + case.operation.label] = 1
    try:
        # Before A's own request, which may delete or change the object the probe aims at.
        if case.path_parameters:
            _cross_issuer_probe(case, two_issuers)
        response = case.call_and_validate(excluded_checks=LENIENCY_CHECKS)
    except BaseException:  # schemathesis raises a BaseExceptionGroup of its failures
        TALLY["failures"] += 1
        raise
    finally:
        _report(figures)
    TALLY["requests"] += 1
    TALLY["5xx"] += response.status_code >= 500
    TALLY["2xx"] += 200 <= response.status_code < 300


def _send_as_b(case, value: object):
    """``case``'s request with ``value`` as its one path parameter, sent with B's key.

    A fresh case, not a copy: a coverage case that leaves its credentials out on purpose would
    take B's out with them, and the probe would only prove that a keyless request is a 401.
    """
    (name,) = case.path_parameters
    headers = {k: v for k, v in case.headers.items() if k.lower() != "authorization"}
    if any(k.lower() == "idempotency-key" for k in headers):
        # Each send its own key: the missing-id baseline must not be a replay (or a 422 for
        # a reused key) of the probe, nor either of them of A's request.
        headers = {k: v for k, v in headers.items() if k.lower() != "idempotency-key"}
        headers["Idempotency-Key"] = str(uuid.uuid4())
    probe = case.operation.Case(
        path_parameters={name: str(value)},
        headers={**headers, "Authorization": _bearer("issuer-b")},
        cookies=dict(case.cookies),
        query=dict(case.query),
        body=case.body,
        media_type=case.media_type,
        multipart_content_types=case.multipart_content_types,
    )
    return probe.call()


def _cross_issuer_probe(case, world: World) -> None:
    label = case.operation.label
    if case.method.upper() != case.operation.method.upper():
        return  # a method the operation lacks (405 for any id) probes no lookup
    TALLY["object_operations:" + label] = 1
    route = world.routes.get(normalise(case.path))
    assert route is not None, f"{label}: no object route of issuer A maps to {case.path}"
    value = route.value(world.tenant)
    if not route.model.objects.filter(**{route.field: value}).exists():
        TALLY["target_gone"] += 1  # an earlier example of A's own deleted it
        return
    # Reads write nothing to compare, and the snapshot is most of a probe's cost.
    writes = case.method.upper() not in ("GET", "HEAD", "OPTIONS")
    before = snapshot(world.a, besides=world.b) if writes else {}
    response = _send_as_b(case, value)
    TALLY["cross_issuer_requests"] += 1
    where = f"{label} as issuer-b on issuer-a's {route.model.__name__} {value}"
    problems = []
    if response.status_code == 404:
        TALLY["probes"] += 1
        TALLY["probed:" + label] = 1
    else:
        ghost = _send_as_b(case, route.missing())
        if (
            response.status_code not in REFUSED_BEFORE_LOOKUP
            or ghost.status_code != response.status_code
        ):
            problems.append(f"{response.status_code} (a missing id gets {ghost.status_code})")
        TALLY["refused_before_lookup"] += 1
    content_type = response.headers.get("content-type", [""])[0]
    if content_type != PROBLEM:
        problems.append(f"answered {content_type!r}, not problem+json")
    if mentions_tenant(response.content, {"path": str(value)}):
        problems.append("the answer mentions issuer A's data")
    diff = changed(before, snapshot(world.a, besides=world.b), counts=True) if writes else []
    if diff:
        problems.append(f"changed {diff}")
    if problems:
        TALLY["leaks"] += 1
        pytest.fail(f"{where}: " + "; ".join(problems))


def _report(figures) -> None:
    def count(prefix: str) -> int:
        return sum(1 for key in TALLY if key.startswith(prefix))

    figures(
        "fuzz",
        operations=count("operations:"),
        requests=TALLY["requests"],
        ok_2xx=TALLY["2xx"],
        fivexx=TALLY["5xx"],
        failures=TALLY["failures"],
        cross_issuer_probes=TALLY["probes"],
        probed_operations=f"{count('probed:')}/{count('object_operations:')}",
        refused_before_lookup=TALLY["refused_before_lookup"],
        leaks=TALLY["leaks"],
    )


def test_the_fuzzer_reached_every_operation_and_got_through_authentication():
    """Runs after the parametrized cases in file order; fails if they were silently few."""
    operations = sum(1 for key in TALLY if key.startswith("operations:"))
    if operations == 0:
        pytest.skip("the fuzz cases were deselected")
    assert operations >= MIN_OPERATIONS, operations
    assert TALLY["2xx"] >= operations, dict(TALLY)  # authenticated: not all 401s
    assert TALLY["5xx"] == 0


def test_every_object_operation_was_probed_across_issuers():
    """A probe count of 0 means the tenant wall was never tested, whatever else passed."""
    if not any(key.startswith("operations:") for key in TALLY):
        pytest.skip("the fuzz cases were deselected")
    objects = {k.split(":", 1)[1] for k in TALLY if k.startswith("object_operations:")}
    assert objects, "the fuzz cases ran but none had an object id: nothing was probed"
    probed = {k.split(":", 1)[1] for k in TALLY if k.startswith("probed:")}
    assert TALLY["probes"] > 0, dict(TALLY)
    assert TALLY["leaks"] == 0, dict(TALLY)
    assert objects <= probed, sorted(objects - probed)  # each reached A's object at least once
