"""The log's evidence for historical answers (seals.history): per event, its leaf index and an
inclusion proof against the latest signed checkpoint.

Registered with seals.history when this app is ready, since seals sits below the log and may
not import it. Leaf ``i`` is event ``seq = i + 1`` (transparency.services); an event after the
latest checkpoint has no proof yet and is left out (its ``log`` stays null until the next
catch-up signs it, within seconds).
"""

from __future__ import annotations

import base64
from collections.abc import Sequence

from django.conf import settings
from django.urls import reverse

from config.tenancy import scopes_disabled
from issuers.models import Issuer
from seals.history import LogEvidence
from seals.log_state import LogState
from transparency import merkle
from transparency.selectors import StoredTree, checkpoint_latest


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


@scopes_disabled()
def log_evidence(issuer_pk: int, seqs: Sequence[int]) -> LogEvidence | None:
    """The evidence for ``seqs`` of the issuer's chain, or None while the log has no checkpoint."""
    checkpoint = checkpoint_latest(issuer_pk)
    if checkpoint is None:
        return None
    slug = Issuer.objects.filter(pk=issuer_pk).values_list("slug", flat=True).get()
    tree = StoredTree(issuer_pk)  # one tree: the proofs share the tiles they read
    leaves = {}
    for seq in seqs:
        index = seq - 1
        if not 0 <= index < checkpoint.size:
            continue
        proof = merkle.inclusion_proof(index, checkpoint.size, tree.perfect)
        leaves[seq] = {
            "leaf_index": index,
            "checkpoint_size": checkpoint.size,
            "inclusion_proof": [_b64(h) for h in proof],
        }
    return LogEvidence(
        checkpoint_size=checkpoint.size,
        checkpoint_root=_b64(bytes(checkpoint.root_hash)),
        checkpoint_url=settings.PUBLIC_BASE_URL + reverse("log-checkpoint", kwargs={"slug": slug}),
        leaves=leaves,
    )


@scopes_disabled()  # a public page's read of one issuer's published log
def log_state(issuer_pk: int) -> LogState | None:
    """The latest checkpoint's size and time, for the public pages (seals.log_state)."""
    checkpoint = checkpoint_latest(issuer_pk)
    if checkpoint is None:
        return None
    slug = Issuer.objects.filter(pk=issuer_pk).values_list("slug", flat=True).get()
    url = settings.PUBLIC_BASE_URL + reverse("log-checkpoint", kwargs={"slug": slug})
    return LogState(size=checkpoint.size, at=checkpoint.created_at, checkpoint_url=url)
