"""Reads of an issuer's stored log: subtree hashes for proofs and tiles, entries, checkpoints."""

from __future__ import annotations

from django.conf import settings

from transparency import merkle
from transparency.models import LogCheckpoint, LogLeaf, LogNode

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT


def fold(hashes: list[bytes]) -> bytes:
    """The root of a perfect subtree from its 2**k hashes at one level."""
    while len(hashes) > 1:
        hashes = [merkle.node_hash(a, b) for a, b in zip(hashes[::2], hashes[1::2], strict=True)]
    return hashes[0]


class StoredTree:
    """``perfect(level, index)`` over one issuer's stored log (see transparency.merkle).

    A subtree at level ``l`` is folded from the nearest stored level at or below it (leaves,
    or the level 8, 16, ... nodes): at most 255 hashes and one query each, whatever the size.
    """

    def __init__(self, issuer_id: int) -> None:
        self.issuer_id = issuer_id
        self._cache: dict[tuple[int, int], bytes] = {}
        self._tiles: dict[tuple[int, int], dict[int, bytes]] = {}

    def _rows(self, level: int, start: int, end: int) -> dict[int, bytes]:
        if level == 0:
            rows = LogLeaf.objects.filter(
                issuer_id=self.issuer_id, index__gte=start, index__lt=end
            ).values_list("index", "hash")
        else:
            rows = LogNode.objects.filter(
                issuer_id=self.issuer_id, level=level, index__gte=start, index__lt=end
            ).values_list("index", "hash")
        return {index: bytes(value) for index, value in rows}

    def hashes(self, level: int, start: int, end: int) -> list[bytes]:
        """Stored hashes at ``level`` (0 or a multiple of 8) for indices [start, end)."""
        found = self._rows(level, start, end)
        if len(found) != end - start:
            raise LookupError(
                f"log of issuer {self.issuer_id} lacks level {level} [{start}, {end})"
            )
        return [found[i] for i in range(start, end)]

    def _tile_hashes(self, level: int, start: int, end: int) -> list[bytes]:
        """``hashes`` for a range inside one tile, reading the whole tile once: a proof asks
        for several small subtrees of the same tile (one per level below 8)."""
        tile = start >> TILE_HEIGHT
        rows = self._tiles.get((level, tile))
        if rows is None:
            first = tile << TILE_HEIGHT
            rows = self._tiles[(level, tile)] = self._rows(level, first, first + TILE_WIDTH)
        if any(i not in rows for i in range(start, end)):
            raise LookupError(
                f"log of issuer {self.issuer_id} lacks level {level} [{start}, {end})"
            )
        return [rows[i] for i in range(start, end)]

    def perfect(self, level: int, index: int) -> bytes:
        key = (level, index)
        if key not in self._cache:
            base = level - level % TILE_HEIGHT
            span = level - base
            start, end = index << span, (index + 1) << span
            if span == 0 and level > 0:
                children = self.hashes(base, start, end)
            else:
                children = self._tile_hashes(base, start, end)
            self._cache[key] = fold(children)
        return self._cache[key]


def checkpoint_latest(issuer_id: int) -> LogCheckpoint | None:
    return LogCheckpoint.objects.filter(issuer_id=issuer_id).order_by("-size").first()


def log_origin(slug: str) -> str:
    """``<host>[/path]/issuers/<slug>/log``: the log's URL prefix without its scheme, as
    tlog-tiles recommends for the origin line (and key name)."""
    base = settings.PUBLIC_BASE_URL.split("://", 1)[-1].rstrip("/")
    return f"{base}/issuers/{slug}/log"


def tile_hashes(issuer_id: int, *, level: int, index: int, width: int) -> bytes:
    """Tile ``level``/``index`` of ``width`` hashes (tlog-tiles): the level ``8 * level`` hashes
    ``index * 256`` onwards, each the tree hash of a full tile of the level below."""
    start = index * TILE_WIDTH
    return b"".join(StoredTree(issuer_id).hashes(TILE_HEIGHT * level, start, start + width))


def entry_bundle(issuer_id: int, *, index: int, width: int) -> bytes:
    """Entries ``index * 256`` onwards, each as a big-endian uint16 length and its bytes."""
    start = index * TILE_WIDTH
    rows = LogLeaf.objects.filter(
        issuer_id=issuer_id, index__gte=start, index__lt=start + width
    ).order_by("index")
    data = [bytes(leaf) for leaf in rows.values_list("data", flat=True)]
    if len(data) != width:
        raise LookupError(f"log of issuer {issuer_id} lacks entries [{start}, {start + width})")
    return b"".join(len(d).to_bytes(2, "big") + d for d in data)
