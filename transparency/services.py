"""The log's one writer: catch up with the issuer's chain of SealEvents and sign a checkpoint.

The log is derived, never written by seals (which sits below this app): ``log_catch_up``
reads the events after the log's last leaf, turns each into its public leaf, and appends them
with a new signed checkpoint, all under the issuer's row lock, the same lock every chain writer
takes (seals.chain). So a catch-up sees a whole number of committed chain writes, two catch-ups
at once run one after the other (the second finds nothing to do), and no size is ever signed
twice (the unique constraint on (issuer, size) is the last line of defence). Beat runs it for
every issuer behind (workers.transparency_tasks, every ``TRANSPARENCY_CATCH_UP_SECONDS``), so an
event is in a signed checkpoint within that interval plus one catch-up.

No outbox nudge from the chain writer: an outbox row per chain write would cost every seal
change three statements and change what the relay hands out in every test of the outbox's
users, for a latency the 10 s beat already keeps far inside the minute promised.
"""

from __future__ import annotations

import logging
from datetime import datetime

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.db import transaction
from django.db.models import F, Max, Q

from config.tenancy import issuer_scope
from issuers.encryption import key_fernet
from issuers.models import Issuer
from seals.models import SealEvent
from transparency import merkle, note
from transparency.leaves import leaf_body
from transparency.models import LogCheckpoint, LogKey, LogLeaf, LogNode
from transparency.selectors import (
    TILE_HEIGHT,
    TILE_WIDTH,
    StoredTree,
    checkpoint_latest,
    fold,
    log_origin,
)

log = logging.getLogger(__name__)
# Events per transaction: the issuer's chain writers wait for at most one batch.
CATCH_UP_BATCH = 2000


def log_key_create(*, issuer: Issuer) -> LogKey:
    """A new Ed25519 log key; its private half is stored only encrypted with the KEK."""
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return LogKey.objects.create(
        issuer=issuer,
        name=log_origin(issuer.slug),
        public_key=note.public_bytes(private.public_key()),
        private_key_encrypted=key_fernet().encrypt(pem),
    )


def log_key_active(issuer: Issuer) -> LogKey | None:
    return LogKey.objects.filter(issuer=issuer, state=LogKey.State.ACTIVE).first()


def log_verifier_key(key: LogKey) -> str:
    return note.verifier_key(key.name, bytes(key.public_key))


def _private(key: LogKey) -> Ed25519PrivateKey:
    loaded = serialization.load_pem_private_key(
        key_fernet().decrypt(bytes(key.private_key_encrypted)), password=None
    )
    assert isinstance(loaded, Ed25519PrivateKey)  # noqa: S101 - written only by log_key_create
    return loaded


def _statuses_before(events: list[SealEvent]) -> dict[int, str | None]:
    """Each seal's status before the batch, for events that carry none of their own."""
    without = {e.seal_id for e in events if "status" not in e.data}
    statuses: dict[int, str | None] = {}
    first_seq = events[0].seq if events else 0
    for seal_id in without:
        data = (
            SealEvent.objects.filter(seal_id=seal_id, seq__lt=first_seq, data__has_key="status")
            .order_by("-seq")
            .values_list("data", flat=True)
            .first()
        )
        statuses[seal_id] = data["status"] if data else None
    return statuses


def _append_leaves(issuer_id: int, size: int, events: list[SealEvent]) -> int:
    statuses = _statuses_before(events)
    leaves = []
    for offset, event in enumerate(events):
        if event.seq != size + offset + 1:
            raise RuntimeError(
                f"issuer {issuer_id}'s chain skips from {size + offset} to {event.seq}"
            )
        status = event.data.get("status", statuses.get(event.seal_id))
        statuses[event.seal_id] = status
        data = leaf_body(event, status=status).encode()
        leaves.append(
            LogLeaf(
                issuer_id=issuer_id, index=event.seq - 1, data=data, hash=merkle.leaf_hash(data)
            )
        )
    LogLeaf.objects.bulk_create(leaves)
    new_size = size + len(leaves)
    _store_nodes(issuer_id, size, new_size, {leaf.index: leaf.hash for leaf in leaves})
    return new_size


def _store_nodes(issuer_id: int, old: int, new: int, fresh: dict[int, bytes]) -> None:
    """Store the level 8, 16, ... hash of every tile the new leaves completed."""
    tree = StoredTree(issuer_id)
    below = fresh
    level = TILE_HEIGHT
    while new >> level > old >> level:
        nodes = []
        added: dict[int, bytes] = {}
        for index in range(old >> level, new >> level):
            start = index * TILE_WIDTH
            children = [below[i] for i in range(start, start + TILE_WIDTH) if i in below]
            if len(children) != TILE_WIDTH:  # part of the tile was appended before
                children = tree.hashes(level - TILE_HEIGHT, start, start + TILE_WIDTH)
            added[index] = fold(children)
            nodes.append(LogNode(issuer_id=issuer_id, level=level, index=index, hash=added[index]))
        LogNode.objects.bulk_create(nodes)
        below = added
        level += TILE_HEIGHT


def _sign_checkpoint(issuer: Issuer, size: int) -> LogCheckpoint:
    key = log_key_active(issuer) or log_key_create(issuer=issuer)
    root = merkle.root_hash(size, StoredTree(issuer.pk).perfect)
    text = note.Checkpoint(key.name, size, root).text()
    signed = note.sign(text, name=key.name, private_key=_private(key))
    return LogCheckpoint.objects.create(issuer=issuer, size=size, root_hash=root, note=signed)


def log_catch_up(*, issuer_id: int, batch: int = CATCH_UP_BATCH) -> LogCheckpoint | None:
    """Bring the issuer's log level with its chain; returns the newest checkpoint (None for an
    issuer that no longer exists). Each batch is its own transaction:

    1. lock the issuer row (serialises this with chain writers and other catch-ups);
    2. read the log's size (its latest checkpoint) and the events after it, in seq order;
    3. append their leaves and the hashes of the tiles they complete;
    4. sign and store the checkpoint of the new size, unless that size is already signed.
    """
    while True:
        with transaction.atomic(), issuer_scope(issuer_id):
            issuer = (
                Issuer.objects.select_for_update()
                .only("id", "slug", "chain_length")
                .filter(pk=issuer_id)
                .first()
            )
            if issuer is None:
                return None
            latest = checkpoint_latest(issuer_id)
            size = latest.size if latest else 0
            if latest is not None and size >= issuer.chain_length:
                return latest
            events = list(
                SealEvent.objects.filter(issuer_id=issuer_id, seq__gt=size)
                .select_related("seal__programme")
                .order_by("seq")[:batch]
            )
            if not events and latest is not None:
                # The head counts events that are not there: verify_chain will say where.
                log.error(
                    "issuer %s: chain length %s, no event after %s",
                    issuer_id,
                    issuer.chain_length,
                    size,
                )
                return latest
            new_size = _append_leaves(issuer_id, size, events) if events else size
            checkpoint = _sign_checkpoint(issuer, new_size)
            if new_size >= issuer.chain_length:
                return checkpoint


def logs_behind() -> list[int]:
    """Issuers whose chain is longer than their log (or who have no checkpoint yet)."""
    return list(
        Issuer.objects.annotate(logged=Max("log_checkpoints__size"))
        .filter(Q(logged__isnull=True) | Q(chain_length__gt=F("logged")))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def logs_catch_up(*, now: datetime | None = None) -> int:
    """Catch up every issuer behind (beat; runs with scopes disabled); returns how many."""
    del now  # the log has no clock of its own: a checkpoint records when it was signed
    behind = logs_behind()
    for issuer_id in behind:
        log_catch_up(issuer_id=issuer_id)
    return len(behind)
