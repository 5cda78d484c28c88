"""A seal's verification bundle: everything a third party needs to check it with no network.

``/verify/<id>/bundle.json`` gathers, at one moment, what the other public routes serve one by
one: the credential JWT, the issuer's JWKS and log verifier key, both status list credentials
as published, the status token, the latest signed checkpoint and each of the seal's log leaves
with its RFC 9162 inclusion proof against that checkpoint. Nothing in it needs trusting us:
every part is signed by the issuer's keys or proven against the signed checkpoint, and
``trustseal-verify --offline`` checks it so (verifier/).

It lives with the log rather than in seals because the log sits above seals (import-linter):
the bundle reads both, and seals may not import the log.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.urls import reverse

from config.tenancy import scopes_disabled
from seals import snapshot
from seals.credentials import credential_jwt, status_token
from seals.keys import issuer_id, issuer_jwks
from seals.models import Seal, SealEvent
from seals.status import next_change_at
from seals.status_lists import PURPOSES, status_list_entries, status_list_published
from transparency import merkle
from transparency.models import LogLeaf
from transparency.selectors import StoredTree, checkpoint_latest
from transparency.services import log_key_active, log_verifier_key

BUNDLE_FORMAT = "trustseal-verification-bundle/1"


class BundleUnavailable(LookupError):
    """No bundle for this id: ``gone`` when the holder's data was erased, else unknown."""

    def __init__(self, *, gone: bool) -> None:
        super().__init__("gone" if gone else "not found")
        self.gone = gone


@dataclass(frozen=True)
class Bundle:
    document: dict[str, Any]
    # When the status in it changes by itself (an expiry): no cache may keep it past that.
    next_change: datetime | None


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def _log_part(seal: Seal) -> dict[str, Any] | None:
    """The latest checkpoint, the log key, and the seal's leaves it covers with their proofs.

    Leaf ``i`` is event ``seq = i + 1`` (transparency.services); events after the checkpoint
    are counted in ``pending`` (they are signed within seconds, at most a minute)."""
    checkpoint = checkpoint_latest(seal.issuer_id)
    key = log_key_active(seal.issuer)
    if checkpoint is None or key is None:
        return None
    seqs = list(SealEvent.objects.filter(seal=seal).order_by("seq").values_list("seq", flat=True))
    indices = [seq - 1 for seq in seqs if seq - 1 < checkpoint.size]
    rows = dict(
        LogLeaf.objects.filter(issuer_id=seal.issuer_id, index__in=indices).values_list(
            "index", "data"
        )
    )
    tree = StoredTree(seal.issuer_id)  # one tree: the proofs share the tiles they read
    leaves = [
        {
            "leaf_index": index,
            "leaf": _b64(bytes(rows[index])),
            "inclusion_proof": [
                _b64(h) for h in merkle.inclusion_proof(index, checkpoint.size, tree.perfect)
            ],
        }
        for index in indices
    ]
    slug = {"slug": seal.issuer.slug}
    return {
        "verifier_key": log_verifier_key(key),
        "checkpoint": checkpoint.note,
        "checkpoint_url": settings.PUBLIC_BASE_URL + reverse("log-checkpoint", kwargs=slug),
        "leaves": leaves,
        "pending": len(seqs) - len(indices),
    }


def _status_lists(seal: Seal) -> list[dict[str, Any]]:
    """Both lists (revocation, suspension) at the seal's position, as the list routes serve
    them; a list not published yet is left out (a verifier then says it cannot tell)."""
    lists = []
    for purpose, entry in zip(PURPOSES, status_list_entries(seal), strict=True):
        published = status_list_published(seal.issuer, purpose, seal.status_list or 0)
        if published is None:
            continue
        lists.append(
            {
                "purpose": str(purpose),
                "url": entry["statusListCredential"],
                "statusListIndex": entry["statusListIndex"],
                "credential": published[0],
            }
        )
    return lists


@scopes_disabled()  # a public id names one seal among every issuer's
def verification_bundle(seal_id: str, *, now: datetime) -> Bundle:
    """The bundle of ``seal_id`` at ``now``; ``BundleUnavailable`` for an unknown seal or one
    whose holder's data was erased (its credential is gone too: it would name them)."""
    seal = (
        Seal.objects.select_related("issuer", "programme", "member")
        .filter(public_id=seal_id)
        .first()
    )
    if seal is None:
        raise BundleUnavailable(gone=False)
    snap = snapshot.get(seal_id)
    if snap is not None and snap.erased:
        raise BundleUnavailable(gone=True)
    credential = credential_jwt(seal)  # first: it assigns a list position to an older seal
    document = {
        "format": BUNDLE_FORMAT,
        "generatedAt": _iso(now.replace(microsecond=0)),
        "seal_id": seal.public_id,
        "verification_url": settings.PUBLIC_BASE_URL
        + reverse("seal-verify", kwargs={"seal_id": seal.public_id}),
        "issuer": {
            "id": issuer_id(seal.issuer),
            "slug": seal.issuer.slug,
            "jwks": issuer_jwks(seal.issuer),
        },
        "credential": credential,
        "status_lists": _status_lists(seal),
        "status_token": status_token(seal, now),
        "log": _log_part(seal),
    }
    return Bundle(document=document, next_change=next_change_at(seal, now))
