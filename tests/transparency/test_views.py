"""The log's public routes, checked as an outsider would: only the bytes served and the key."""

from __future__ import annotations

import base64

import pytest
from django.utils import timezone

from seals.chain import record_events
from seals.models import SealEvent
from tests.factories import MemberFactory, award
from transparency import merkle, note
from transparency.selectors import StoredTree
from transparency.services import log_catch_up


@pytest.fixture
def logged(issuer):
    seal = award(MemberFactory(issuer=issuer))
    entries = [(seal, SealEvent.Kind.DETAILS_CHANGED, {"fields": ["name"]})] * 299
    record_events(issuer_id=issuer.pk, entries=entries, actor="import", at=timezone.now())
    log_catch_up(issuer_id=issuer.pk)
    return issuer


def _base(issuer) -> str:
    return f"/issuers/{issuer.slug}/log"


def _checkpoint(client, issuer) -> note.Checkpoint:
    key = client.get(f"{_base(issuer)}/key").content.decode()
    body = client.get(f"{_base(issuer)}/checkpoint").content.decode()
    return note.parse_checkpoint(note.open_note(body, note.parse_verifier_key(key)))


def _b64(value: str) -> bytes:
    return base64.b64decode(value)


def test_the_checkpoint_is_a_signed_note_served_as_plain_text_without_cookies(client, logged):
    response = client.get(f"{_base(logged)}/checkpoint")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Cache-Control"] == "public, max-age=5"
    assert not response.cookies
    assert _checkpoint(client, logged).size == 300
    key = client.get(f"{_base(logged)}/key")
    assert key.content.decode().startswith(f"127.0.0.1:8000/issuers/{logged.slug}/log+")
    head = client.head(f"{_base(logged)}/checkpoint")
    assert head.status_code == 200 and head.content == b""


def test_an_inclusion_proof_verifies_against_the_signed_checkpoint(client, logged):
    checkpoint = _checkpoint(client, logged)
    for index in (0, 255, 256, 299):
        body = client.get(f"{_base(logged)}/proof/inclusion?leaf={index}").json()
        leaf_hash = merkle.leaf_hash(_b64(body["leaf"]))
        assert leaf_hash == _b64(body["leaf_hash"])
        proof = [_b64(p) for p in body["proof"]]
        assert merkle.verify_inclusion(index, 300, leaf_hash, proof, checkpoint.root)
    older = client.get(f"{_base(logged)}/proof/inclusion?leaf=3&size=7").json()
    assert older["tree_size"] == 7
    assert _b64(older["root_hash"]) == merkle.root_hash(7, StoredTree(logged.pk).perfect)


def test_a_consistency_proof_links_an_older_size_to_the_checkpoint(client, logged):
    checkpoint = _checkpoint(client, logged)
    body = client.get(f"{_base(logged)}/proof/consistency?from=17&to=300").json()
    proof = [_b64(p) for p in body["proof"]]
    assert _b64(body["to_root_hash"]) == checkpoint.root
    old_root = _b64(body["from_root_hash"])
    assert merkle.verify_consistency(17, 300, old_root, checkpoint.root, proof)


@pytest.mark.parametrize(
    ("query", "detail"),
    [
        ("proof/inclusion", "'leaf' is required"),
        ("proof/inclusion?leaf=300", "leaf 300 is not in a tree of 300"),
        ("proof/inclusion?leaf=1&size=301", "past the latest checkpoint"),
        ("proof/inclusion?leaf=-1", "non-negative integer"),
        ("proof/inclusion?leaf=1e3", "non-negative integer"),
        ("proof/consistency?from=0&to=5", "at least 1"),
        ("proof/consistency?from=6&to=5", "at most to=5"),
        ("proof/consistency?from=1&to=999", "past the latest checkpoint"),
    ],
)
def test_out_of_range_queries_get_a_clear_problem(client, logged, query, detail):
    response = client.get(f"{_base(logged)}/{query}")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert detail in response.json()["detail"]


def test_tiles_and_entry_bundles_rebuild_the_tree(client, logged):
    checkpoint = _checkpoint(client, logged)
    full = client.get(f"{_base(logged)}/tile/0/000")
    assert full["Cache-Control"] == "public, max-age=31536000, immutable"
    partial = client.get(f"{_base(logged)}/tile/0/001.p/44")
    level0 = full.content + partial.content
    assert len(full.content) == 256 * 32 and len(partial.content) == 44 * 32
    hashes = [level0[i : i + 32] for i in range(0, len(level0), 32)]
    assert merkle.root_hash(300, merkle.in_memory(hashes)) == checkpoint.root
    level1 = client.get(f"{_base(logged)}/tile/1/000.p/1").content
    assert level1 == merkle.in_memory(hashes)(8, 0)
    bundle = client.get(f"{_base(logged)}/tile/entries/001.p/44").content
    entries, at = [], 0
    while at < len(bundle):
        length = int.from_bytes(bundle[at : at + 2], "big")
        entries.append(bundle[at + 2 : at + 2 + length])
        at += 2 + length
    assert [merkle.leaf_hash(e) for e in entries] == hashes[256:]


@pytest.mark.parametrize(
    "path", ["tile/0/001", "tile/0/001.p/45", "tile/1/000", "tile/0/1", "tile/entries/002.p/1"]
)
def test_tiles_past_the_checkpoint_are_not_found(client, logged, path):
    assert client.get(f"{_base(logged)}/{path}").status_code == 404


def test_an_unknown_issuer_has_no_log(client, db):
    assert client.get("/issuers/nobody/log/checkpoint").status_code == 404


def test_the_verification_guide_snippet_checks_a_checkpoint_and_a_proof(client, logged):
    """docs/verification.md's outsider check, run against what the routes serve."""
    from pathlib import Path

    guide = (Path(__file__).parents[2] / "docs" / "verification.md").read_text()
    code = guide.split("## The transparency log", 1)[1].split("```python\n", 1)[1]
    code = code.split("\nsize, root = open_checkpoint(", 1)[0]
    namespace: dict = {}
    exec(code, namespace)  # noqa: S102 - our own documentation
    vkey = client.get(f"{_base(logged)}/key").content.decode().strip()
    size, root = namespace["open_checkpoint"](
        client.get(f"{_base(logged)}/checkpoint").content.decode(), vkey
    )
    assert size == 300
    body = client.get(f"{_base(logged)}/proof/inclusion?leaf=1&size=300").json()
    leaf_hash = merkle.leaf_hash(_b64(body["leaf"]))
    path = [_b64(p) for p in body["proof"]]
    assert namespace["root_from_inclusion"](1, size, leaf_hash, path) == root
    assert namespace["root_from_inclusion"](2, size, leaf_hash, path) != root
