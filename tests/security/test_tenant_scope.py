"""Tenancy by construction (config.tenancy): an issuer's rows are read only inside a scope.

The test's own code runs with scopes disabled (tests/conftest.py); ``no_scope`` puts a block back
where every request and task starts in production: no scope at all.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_scopes import get_scope
from django_scopes import state as scope_state_module
from django_scopes.state import state as scope_state
from rest_framework.test import APIRequestFactory

from config import api_urls
from config.tenancy import ScopeError, issuer_scope
from effects import handlers, webhooks
from issuers.models import (
    DataRequest,
    ImportJob,
    Issuer,
    Member,
    Programme,
    WebhookDelivery,
    WebhookEndpoint,
)
from issuers.services import programme_create
from outbox.core import handler_for
from privacy import services as privacy
from seals import imports
from seals.api.views import MemberViewSet
from seals.models import DailyStat, MonthlyStat, Notice, Seal, SealEvent, SigningKey
from tests.factories import MemberFactory, award
from workers import base as worker_base

pytestmark = pytest.mark.django_db

SCOPED = [
    Programme,
    Member,
    WebhookEndpoint,
    WebhookDelivery,
    ImportJob,
    DataRequest,
    Seal,
    SealEvent,
    SigningKey,
    Notice,
    DailyStat,
    MonthlyStat,
]


@contextmanager
def no_scope() -> Iterator[None]:
    token = scope_state.set({})
    try:
        yield
    finally:
        scope_state.reset(token)


@pytest.fixture
def two_issuers():
    """Issuer A and B, each with a member, a seal, a webhook delivery and a notice."""
    made = []
    for _ in range(2):
        member = MemberFactory()
        seal = award(member, days=5)
        endpoint = webhooks.webhook_endpoint_create(
            issuer=member.issuer, url="https://hooks.example/in"
        ).endpoint
        delivery = webhooks.webhook_endpoint_test(endpoint=endpoint)
        notice = Notice.objects.create(
            seal=seal, kind="expiry_7d", cycle=timezone.now().date(), due_at=timezone.now()
        )
        made.append((member.issuer, seal, delivery, notice))
    return made


@pytest.mark.parametrize("model", SCOPED, ids=lambda m: m.__name__)
def test_an_unscoped_query_of_an_issuer_owned_model_refuses_to_run(model):
    with no_scope():
        with pytest.raises(ScopeError):
            list(model.objects.all())
        with pytest.raises(ScopeError):
            model.objects.filter(pk=1).first()
        with pytest.raises(ScopeError):
            model.objects.count()


def test_related_managers_refuse_too_and_plain_models_do_not(issuer):
    with no_scope():
        with pytest.raises(ScopeError):
            list(issuer.seals.all())
        with pytest.raises(ScopeError):
            issuer.programmes.get(is_default=True)
        # Found before the tenant is known (API keys) or published by design: not scoped.
        assert Issuer.objects.filter(pk=issuer.pk).exists()


def test_inside_a_scope_only_that_issuers_rows_exist(two_issuers):
    (a, seal_a, delivery_a, notice_a), (_b, seal_b, delivery_b, _notice_b) = two_issuers
    with no_scope(), issuer_scope(a):
        assert list(Seal.objects.values_list("pk", flat=True)) == [seal_a.pk]
        assert Seal.objects.filter(pk=seal_b.pk).first() is None
        assert set(SealEvent.objects.values_list("seal_id", flat=True)) == {seal_a.pk}
        # Scoped through a relation: a notice by its seal, a delivery by its endpoint.
        assert list(Notice.objects.values_list("pk", flat=True)) == [notice_a.pk]
        assert list(WebhookDelivery.objects.values_list("pk", flat=True)) == [delivery_a.pk]
        assert not WebhookDelivery.objects.filter(pk=delivery_b.pk).exists()
        assert not Member.objects.filter(pk=seal_b.member_id).exists()


def test_a_claim_through_a_relation_scope_stays_one_single_table_update(two_issuers):
    # Scoped by a join, Django would move every condition into "id IN (SELECT ... JOIN ...)",
    # which PostgreSQL does not re-check for a row a concurrent claim just changed.
    (a, _seal, delivery, notice), _b = two_issuers
    with no_scope(), issuer_scope(a), CaptureQueriesContext(connection) as queries:
        claimed = WebhookDelivery.objects.filter(pk=delivery.pk, state="pending").update(
            state="delivering"
        )
        again = WebhookDelivery.objects.filter(pk=delivery.pk, state="pending").update(
            state="delivering"
        )
        noticed = Notice.objects.filter(pk=notice.pk, state="pending").update(state="claimed")
    assert (claimed, again, noticed) == (1, 0, 1)
    for query, table in zip(
        queries, ["issuers_webhookdelivery", "issuers_webhookdelivery", "seals_notice"], strict=True
    ):
        assert query["sql"].startswith("UPDATE") and "JOIN" not in query["sql"], query["sql"]
        assert f'"{table}"."state" = ' in query["sql"], query["sql"]


def test_every_model_the_api_serves_is_one_of_the_scoped():
    served = set()
    for pattern in api_urls.urlpatterns:
        view = getattr(pattern.callback, "cls", None)
        queryset = getattr(view, "queryset", None)
        if queryset is not None:
            served.add(queryset.model)
    assert served, "no API view declares its model"
    assert served <= set(SCOPED), served - set(SCOPED)


def test_the_api_runs_each_request_inside_the_calling_issuers_scope(api, monkeypatch):
    seen = []
    original = privacy.data_request_create

    def create(**kwargs):
        seen.append(dict(get_scope()))
        return original(**kwargs)

    monkeypatch.setattr(privacy, "data_request_create", create)
    response = api.post("/data-requests", {"kind": "access"})

    assert response.status_code == 201, response.content
    assert seen == [{"_enabled": True, "issuer": api.issuer}]


def test_another_issuers_rows_named_in_a_request_are_not_found(api, other_api):
    # Lookups that once filtered by the issuer by hand (the member and programme of an award,
    # the programme filter of the statistics, the data request an erasure answers) now have
    # only the scope to keep them to the calling issuer.
    theirs = MemberFactory(issuer=other_api.issuer)
    programme_create(issuer=other_api.issuer, slug="theirs", name="Theirs")
    their_request = privacy.data_request_create(issuer=other_api.issuer, kind="erasure", actor="t")
    mine = MemberFactory(issuer=api.issuer)

    award_theirs = api.post("/seals", {"member": theirs.pk})
    in_their_programme = api.post("/seals", {"member": mine.pk, "programme": "theirs"})
    stats = api.get("/stats", programme="theirs")
    erase = api.post(f"/members/{mine.pk}/erase", {"data_request": their_request.pk})

    for response, field in (
        (award_theirs, "member"),
        (in_their_programme, "programme"),
        (stats, "programme"),
        (erase, "data_request"),
    ):
        assert response.status_code == 400, response.content
        assert [e["field"] for e in response.json()["errors"]] == [field]
    assert not Seal.objects.filter(member__in=[theirs, mine]).exists()
    assert Member.objects.get(pk=mine.pk).erased_at is None


@pytest.mark.parametrize(
    "path",
    [
        "/s/{id}.svg",
        "/s/{id}.png",
        "/verify/{id}",
        "/verify/{id}.json",
        "/embed/{id}",
        "/s/{id}/credential.jwt",
        "/s/{id}/certificate.pdf",
        "/issuers/{slug}",
        "/issuers/{slug}/jwks.json",
        "/issuers/{slug}/status/revocation",
    ],
)
def test_public_routes_read_across_issuers_with_no_scope_open(client, path):
    seal = award(MemberFactory())
    # The test client starts each request with no scope, as a visitor's request does.
    response = client.get(path.format(id=seal.public_id, slug=seal.issuer.slug))
    assert response.status_code == 200, response.content[:300]


def test_a_warm_seal_image_pays_nothing_for_tenancy(client, monkeypatch):
    # Only the snapshot's load (a cache miss) disables scopes; a warm answer enters none.
    entered: list = []
    enter = scope_state_module.scope

    def counted(**kwargs):
        entered.append(kwargs)
        return enter(**kwargs)

    monkeypatch.setattr(scope_state_module, "scope", counted)
    seal = award(MemberFactory())
    url = f"/s/{seal.public_id}.svg"
    with CaptureQueriesContext(connection) as cold:
        assert client.get(url).status_code == 200
    entered_cold = len(entered)
    with CaptureQueriesContext(connection) as warm:
        assert client.get(url).status_code == 200
    assert (len(cold), len(warm)) == (2, 0), [q["sql"] for q in cold]
    assert entered_cold == 1 and len(entered) == entered_cold


def _record_scope(seen: list, result=None):
    def service(**kwargs):
        seen.append(dict(get_scope()))
        return result

    return service


def test_an_outbox_handler_opens_the_scope_of_its_rows_issuer(two_issuers, monkeypatch):
    (a, _seal, delivery, notice), _b = two_issuers
    job = ImportJob.objects.create(issuer=a, format="csv", total=1)
    seen: list = []
    sent = SimpleNamespace(retry_at=None)
    monkeypatch.setattr(handlers, "webhook_deliver", _record_scope(seen, sent))
    monkeypatch.setattr(handlers, "notice_send", _record_scope(seen, sent))
    done = SimpleNamespace(state=ImportJob.State.SUCCEEDED)
    monkeypatch.setattr(imports, "import_job_run", _record_scope(seen, done))

    with no_scope():
        handlers.deliver_webhook({"delivery_id": delivery.pk}, None)
        handlers.send_notice({"notice_id": notice.pk}, None)
        handler_for(imports.IMPORT_TOPIC).run({"job_id": job.pk, "actor": "t"}, None)

    assert seen == [{"_enabled": True, "issuer": a.pk}] * 3


def test_a_handler_for_a_row_that_is_gone_does_nothing(monkeypatch):
    seen: list = []
    monkeypatch.setattr(handlers, "webhook_deliver", _record_scope(seen))
    with no_scope():
        handlers.deliver_webhook({"delivery_id": 987654}, None)
    assert seen == []


def test_a_beat_sweep_runs_with_scopes_disabled(two_issuers, monkeypatch):
    monkeypatch.setattr("workers.locks.beat_lock", lambda name, interval: True)

    def sweep() -> tuple[dict, int]:
        return dict(get_scope()), Seal.objects.count()

    with no_scope():
        seen = worker_base.run_beat_job("test_sweep", sweep)
    assert seen == ({"_enabled": False}, 2)


def test_an_issuer_scope_refuses_none():
    with pytest.raises(TypeError):
        issuer_scope(None)


def test_an_operators_command_spans_issuers(two_issuers):
    out = io.StringIO()
    with no_scope():
        call_command("rotatekeys", stdout=out)
    assert "Re-encrypted 2 signing key(s)" in out.getvalue()


def test_the_admin_spans_issuers(admin_client, two_issuers):
    (_a, seal_a, *_), (_b, seal_b, *_) = two_issuers
    response = admin_client.get("/console/admin/seals/seal/")
    assert response.status_code == 200
    assert seal_a.public_id.encode() in response.content
    assert seal_b.public_id.encode() in response.content


def test_the_issuer_scope_closes_with_the_request_a_refused_one_too(api):
    # Called directly, not through the test client (which resets the scope itself).
    view = MemberViewSet.as_view({"get": "list"})
    auth = {"HTTP_AUTHORIZATION": f"Bearer {api.key}"}
    factory = APIRequestFactory()
    with no_scope():
        listed = view(factory.get("/api/v1/members", **auth))
        after_listed = dict(get_scope())
        refused = view(factory.get("/api/v1/members", {"status": "bogus"}, **auth))
        after_refused = dict(get_scope())
    assert (listed.status_code, refused.status_code) == (200, 400)
    assert after_listed == after_refused == {}
