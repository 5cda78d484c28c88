"""The snapshot's cache form: it round-trips, holds no class of ours, and an entry in any other
form (an earlier release's dict, another format number, a broken tuple) is a cache miss that
is rebuilt from the database and replaced, never an error."""

from __future__ import annotations

import pickle
from dataclasses import replace

import pytest
from django.core.cache import cache

from seals import snapshot
from seals.snapshot_types import CACHE_FORMAT, SealSnapshot
from tests.seals.public_helpers import seal_in
from tests.seals.snapshots import BASE, snapshot_with


def test_the_cache_form_round_trips_through_pickle():
    for snap in (BASE, snapshot_with(status_list=None, expires_at=None, history=(), erased=True)):
        stored = pickle.dumps(snap.to_cache())  # as the cache backends store it
        assert SealSnapshot.from_cache(pickle.loads(stored)) == snap  # noqa: S301 -- our own bytes


def test_the_cache_form_names_no_class_of_ours():
    # A pickled class is found by module path on load: renaming or reshaping it would make
    # every cached entry fail to load, on every node, at once.
    assert b"seals" not in pickle.dumps(BASE.to_cache())


@pytest.mark.parametrize(
    "stale",
    [
        {"id": "a" * 22, "status": "active", "digest": "x"},  # an earlier release's dict
        (CACHE_FORMAT - 1, *BASE.to_cache()[1:]),
        (CACHE_FORMAT + 1, *BASE.to_cache()[1:]),
        (CACHE_FORMAT, BASE.to_cache()[1][:-1], *BASE.to_cache()[2:]),  # a field short
        (CACHE_FORMAT, *BASE.to_cache()[1:4], ("x",), BASE.to_cache()[5]),
        (CACHE_FORMAT,),
        None,
        "missing?",
    ],
)
def test_anything_but_this_format_is_not_a_snapshot(stale):
    assert SealSnapshot.from_cache(stale) is None


def _store(public_id: str, value: object) -> None:
    """Put ``value`` in the seal's shared entry under its current generation token, as a
    node of another release would have."""
    gen = cache.get(snapshot._gen_key(public_id))
    assert gen is not None
    cache.set(snapshot._snap_key(public_id), (gen, value), snapshot.SNAPSHOT_TTL)


def _fresh(snap: SealSnapshot | None) -> SealSnapshot:
    assert snap is not None
    return replace(snap, loaded_at=BASE.loaded_at)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "stale",
    [
        lambda snap: {"id": snap.public_id, "status": "active", "issuer": {}},
        lambda snap: (CACHE_FORMAT - 1, *snap.to_cache()[1:]),
        lambda snap: (CACHE_FORMAT, snap.to_cache()[1][:3]),
    ],
    ids=["earlier-dict", "earlier-format", "broken-tuple"],
)
def test_a_stale_entry_is_a_miss_rebuilt_from_the_database_and_replaced(
    stale, django_assert_num_queries
):
    seal = seal_in("active")
    current = snapshot.get(seal.public_id)
    assert current is not None
    _store(seal.public_id, stale(current))
    with django_assert_num_queries(2):  # the snapshot's load: the seal and its events
        assert _fresh(snapshot.get(seal.public_id)) == _fresh(current)
    with django_assert_num_queries(0):  # and the entry was replaced by a current one
        assert _fresh(snapshot.get(seal.public_id)) == _fresh(current)


@pytest.mark.django_db
def test_a_current_entry_is_served_without_a_query(django_assert_num_queries):
    seal = seal_in("active")
    snap = snapshot.get(seal.public_id)
    with django_assert_num_queries(0):
        assert snapshot.get(seal.public_id) == snap
    assert isinstance(snap, SealSnapshot) and snap.public_id == seal.public_id


@pytest.mark.django_db
def test_the_verification_json_survives_an_earlier_releases_entry(client):
    seal = seal_in("active")
    client.get(f"/verify/{seal.public_id}.json")
    _store(seal.public_id, {"id": seal.public_id, "status": "revoked"})
    answer = client.get(f"/verify/{seal.public_id}.json")
    assert answer.status_code == 200
    assert (answer.json()["seal_id"], answer.json()["status"]) == (seal.public_id, "active")
