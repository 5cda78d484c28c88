"""The read-replica router (config/db_router.py): which reads may go to a replica, and which never.

``replica_test`` (config/settings/test.py) is a second connection to the test database; a test
names it in DATABASE_REPLICAS, and the queries each connection ran show the router's choices.
"""

from __future__ import annotations

import pytest
from django.db import connections, transaction
from django.test.utils import CaptureQueriesContext

from config import db_router
from config.db_router import PRIMARY, PrimaryPinMiddleware, ReplicaRouter, replica_reads
from issuers.models import Member
from seals.services import seal_revoke
from tests.factories import MemberFactory, award

REPLICA = "replica_test"
both = pytest.mark.django_db(databases=[PRIMARY, REPLICA], transaction=True)


@pytest.fixture
def replicas(settings):
    settings.DATABASE_REPLICAS = [REPLICA]
    with db_router.unit_of_work():
        yield


def _read_db() -> str:
    return ReplicaRouter().db_for_read(Member)


def test_without_replicas_even_marked_reads_use_the_primary(settings):
    settings.DATABASE_REPLICAS = []
    with db_router.unit_of_work(), replica_reads():
        assert _read_db() == PRIMARY


def test_only_reads_marked_lag_tolerant_go_to_a_replica(replicas):
    assert _read_db() == PRIMARY  # the default, for everything nobody marked
    with replica_reads():
        assert _read_db() == REPLICA
    assert _read_db() == PRIMARY


def test_a_write_pins_the_rest_of_the_unit_to_the_primary(replicas):
    with replica_reads():
        assert _read_db() == REPLICA
        ReplicaRouter().db_for_write(Member)
        assert _read_db() == PRIMARY
    with replica_reads():  # still the same unit of work
        assert _read_db() == PRIMARY


@both
def test_reads_inside_a_transaction_stay_on_the_primary(replicas):
    with replica_reads(), transaction.atomic():
        assert _read_db() == PRIMARY


def test_each_request_starts_unpinned(replicas, rf):
    seen = []

    def view(request):
        with replica_reads():
            seen.append(_read_db())
        ReplicaRouter().db_for_write(Member)  # this request writes
        return None

    middleware = PrimaryPinMiddleware(view)
    middleware(rf.get("/"))
    middleware(rf.get("/"))  # the same thread, a new request
    assert seen == [REPLICA, REPLICA]
    assert not db_router.pinned_to_primary()  # the pin ended with its request


def test_each_task_starts_unpinned(replicas):
    from celery.signals import task_prerun

    import config.celery  # noqa: F401  (connects the hook)

    ReplicaRouter().db_for_write(Member)
    assert db_router.pinned_to_primary()
    task_prerun.send(sender=None, task_id="t", task=None, args=(), kwargs={})
    assert not db_router.pinned_to_primary()


def test_the_decorator_gives_each_call_its_own_mark(replicas):
    @replica_reads()
    def listing():
        return _read_db()

    with replica_reads():
        assert listing() == REPLICA
        assert _read_db() == REPLICA
    assert listing() == REPLICA and _read_db() == PRIMARY


def test_replicas_are_never_migrated(settings):
    settings.DATABASE_REPLICAS = [REPLICA]
    assert ReplicaRouter().allow_migrate(REPLICA, "seals") is False
    assert ReplicaRouter().allow_migrate(PRIMARY, "seals") is True


@both
def test_the_register_searches_a_replica_but_reads_statuses_from_the_primary(
    replicas, issuer, client
):
    seal = award(MemberFactory(issuer=issuer, display_name="Alpha Shop"))
    seal_revoke(seal=seal, reason="fraud", actor="test")
    with (
        CaptureQueriesContext(connections[REPLICA]) as on_replica,
        CaptureQueriesContext(connections[PRIMARY]) as on_primary,
    ):
        response = client.get(f"/issuers/{issuer.slug}/register?format=json")
    assert response.status_code == 200, response.content
    rows = response.json()["results"]
    assert [s["status"] for r in rows for s in r["seals"]] == ["revoked"]
    replica_sql = " ".join(q["sql"] for q in on_replica.captured_queries)
    primary_sql = " ".join(q["sql"] for q in on_primary.captured_queries)
    assert "issuers_member" in replica_sql and "seals_seal" not in replica_sql.split("EXISTS")[0]
    assert 'FROM "seals_seal"' in primary_sql


@both
def test_public_seal_answers_never_read_a_replica(replicas, issuer, client):
    seal = award(MemberFactory(issuer=issuer))
    with CaptureQueriesContext(connections[REPLICA]) as on_replica:
        for path in (
            f"/verify/{seal.public_id}.json",
            f"/verify/{seal.public_id}",
            f"/s/{seal.public_id}.svg",
            f"/s/{seal.public_id}/credential.jwt",
            f"/issuers/{issuer.slug}/status/revocation",
        ):
            assert client.get(path).status_code == 200, path
    assert on_replica.captured_queries == []


@both
def test_the_api_member_list_reads_a_replica(replicas, issuer):
    from tests.api_support import Api

    api = Api(issuer)
    award(MemberFactory(issuer=issuer))
    with CaptureQueriesContext(connections[REPLICA]) as on_replica:
        response = api.get("/members")
    assert response.status_code == 200
    assert any("issuers_member" in q["sql"] for q in on_replica.captured_queries)
    assert not any('FROM "seals_seal"' in q["sql"] for q in on_replica.captured_queries)


@pytest.mark.postgres
def test_a_query_is_not_split_across_cores_unless_told(db):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW max_parallel_workers_per_gather")
        assert cursor.fetchone() == ("0",)
