"""Concurrent API writes on PostgreSQL: a race answers like the request that came second.
Real threads, each with its own connection, released together by a barrier."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connections
from rest_framework.test import APIClient

from issuers.models import IdempotencyRecord, Member, Programme
from seals.models import Seal
from tests.api_support import Api
from tests.factories import IssuerFactory, MemberFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 8


def race(api: Api, send: Callable[[APIClient], Any], threads: int = THREADS) -> list[Any]:
    """Run ``send`` in ``threads`` threads at once; their responses (or exceptions)."""
    barrier = threading.Barrier(threads)
    results: list[Any] = []

    def run() -> None:
        client = APIClient(raise_request_exception=False)
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {api.key}")
        try:
            barrier.wait()
            results.append(send(client))
        except BaseException as exc:
            results.append(exc)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return results


def outcomes(responses: list[Any]) -> Counter:
    return Counter(
        (r.status_code, r.json().get("code") if r.status_code >= 400 else None)
        if hasattr(r, "status_code")
        else repr(r)
        for r in responses
    )


def test_racing_creates_of_one_member_give_one_201_and_409_member_exists():
    api = Api(IssuerFactory())
    for round_ in range(3):
        body = {"external_ref": f"RACE-{round_}", "legal_name": "Racer Ltd"}

        seen = outcomes(
            race(api, lambda c, body=body: c.post("/api/v1/members", body, format="json"))
        )

        assert seen == Counter({(201, None): 1, (409, "member_exists"): THREADS - 1}), seen
    assert Member.objects.filter(issuer=api.issuer).count() == 3


def test_the_losing_request_names_the_winner_like_a_sequential_duplicate():
    api = Api(IssuerFactory())
    body = {"external_ref": "RACE", "legal_name": "Racer Ltd"}

    responses = race(api, lambda c: c.post("/api/v1/members", body, format="json"))

    member = Member.objects.get(issuer=api.issuer, external_ref="RACE")
    late = api.post("/members", body)
    details = {r.json()["detail"] for r in responses if r.status_code == 409}
    assert details == {late.json()["detail"]}
    assert f"(id {member.pk})" in late.json()["detail"]


def test_racing_creates_of_one_programme_give_one_201_and_409s():
    api = Api(IssuerFactory())
    body = {"slug": "gold", "name": "Gold"}

    seen = outcomes(race(api, lambda c: c.post("/api/v1/programmes", body, format="json")))

    assert seen == Counter({(201, None): 1, (409, "conflict"): THREADS - 1}), seen
    assert Programme.objects.filter(issuer=api.issuer, slug="gold").count() == 1


def test_racing_awards_to_one_member_give_one_seal_and_409_seal_exists():
    api = Api(IssuerFactory())
    member = MemberFactory(issuer=api.issuer)

    seen = outcomes(
        race(api, lambda c: c.post("/api/v1/seals", {"member": member.pk}, format="json"))
    )

    assert seen == Counter({(201, None): 1, (409, "seal_exists"): THREADS - 1}), seen
    assert Seal.objects.filter(member=member).count() == 1


def test_one_idempotency_key_in_parallel_creates_once_and_replays_it():
    api = Api(IssuerFactory())
    member = MemberFactory(issuer=api.issuer)
    headers = {"Idempotency-Key": "award-once"}

    responses = race(
        api,
        lambda c: c.post("/api/v1/seals", {"member": member.pk}, format="json", headers=headers),
    )

    assert all(hasattr(r, "status_code") for r in responses), responses
    fresh = [r for r in responses if r.status_code == 201 and "Idempotent-Replayed" not in r]
    replays = [r for r in responses if r.get("Idempotent-Replayed") == "true"]
    busy = [r for r in responses if r.status_code == 409]
    assert len(fresh) == 1, outcomes(responses)
    assert len(fresh) + len(replays) + len(busy) == THREADS
    assert all(r.content == fresh[0].content for r in replays)
    assert all(r.json()["code"] == "idempotency_in_progress" and r["Retry-After"] for r in busy)
    assert Seal.objects.filter(member=member).count() == 1
    assert IdempotencyRecord.objects.get(key="award-once").response_status == 201


def test_one_key_with_two_bodies_in_parallel_runs_one_and_refuses_the_other():
    api = Api(IssuerFactory())
    members = [MemberFactory(issuer=api.issuer) for _ in range(2)]
    headers = {"Idempotency-Key": "two-bodies"}
    turn = iter(range(THREADS))
    lock = threading.Lock()

    def send(client: APIClient):
        with lock:
            member = members[next(turn) % 2]
        return client.post("/api/v1/seals", {"member": member.pk}, format="json", headers=headers)

    responses = race(api, send)

    assert Seal.objects.filter(member__in=members).count() == 1
    seal = Seal.objects.get(member__in=members)
    codes = Counter(r.status_code for r in responses)
    assert codes[201] >= 1 and codes[422] >= 1, codes
    assert set(codes) <= {201, 409, 422}
    # every 201 is the one seal (created once, replayed to the same body)
    assert {r.json()["id"] for r in responses if r.status_code == 201} == {seal.public_id}
