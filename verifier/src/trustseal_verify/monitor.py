"""``monitor``: watch an issuer's log and prove it only ever grows.

Keeps the last verified checkpoint in a state file. On each run: fetch the current checkpoint,
verify it with the log key (pinned in the state on first use, or given), and check that it
extends the one kept, with an RFC 9162 consistency proof recomputed here (asked from the log's
proof endpoint, or built from its tiles with ``--tiles``). A log that rewrote its history cannot
produce one: the run then exits 1 and prints both signed checkpoints, which together are the
evidence. The state moves on only after a successful check.
"""

from __future__ import annotations

import base64
import json
import os
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from trustseal_verify import merkle, note
from trustseal_verify.checks import iso
from trustseal_verify.fetch import Fetch, NotFound, Unreachable

OK, REWRITTEN, UNAVAILABLE = "consistent", "rewritten", "unknown"
EXIT = {OK: 0, REWRITTEN: 1, UNAVAILABLE: 2}
TILE_WIDTH = 256


@dataclass
class MonitorResult:
    log_url: str
    outcome: str
    detail: str
    checked_at: datetime
    previous: dict[str, Any] | None = None
    current: dict[str, Any] | None = None
    cosigned: str | None = None
    evidence: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return EXIT[self.outcome]

    def as_dict(self) -> dict[str, Any]:
        return {
            "log": self.log_url,
            "outcome": self.outcome,
            "detail": self.detail,
            "checked_at": iso(self.checked_at),
            "previous": self.previous,
            "current": self.current,
            "evidence": self.evidence,
            "cosigned_checkpoint": self.cosigned,
        }

    def text(self) -> str:
        mark = {OK: "\u2713", REWRITTEN: "\u2717", UNAVAILABLE: "?"}[self.outcome]
        lines = [f"trustseal-verify monitor: {self.log_url}", f"  {mark} {self.detail}"]
        if self.evidence:
            lines.append("Evidence: two checkpoints, both signed by the log key, that no")
            lines.append("append-only log can both have produced:")
            for signed in self.evidence:
                lines.append("")
                lines.extend("    " + line for line in signed.rstrip("\n").split("\n"))
        if self.cosigned:
            lines.append("  cosigned checkpoint:")
            lines.extend("    " + line for line in self.cosigned.rstrip("\n").split("\n"))
        lines.append(self.outcome.upper())
        return "\n".join(lines)


def log_url_of(issuer_url: str) -> str:
    """``…/issuers/<slug>`` (or its log, or the checkpoint) → ``…/issuers/<slug>/log``."""
    url = issuer_url.rstrip("/").removesuffix("/checkpoint")
    return url if url.endswith("/log") else f"{url}/log"


def _read_state(path: Path | None) -> dict[str, Any] | None:
    if path is None or not path.exists():
        return None
    return json.loads(path.read_text())


def _write_state(path: Path, state: dict[str, Any]) -> None:
    # Write-then-rename: a run killed half-way never leaves a truncated state behind.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    with os.fdopen(fd, "w") as handle:
        json.dump(state, handle, indent=2)
        handle.write("\n")
    os.replace(tmp, path)


def _tree_hashes_from_tiles(log_url: str, size: int, fetch: Fetch) -> list[bytes]:
    """Every leaf hash of the tree of ``size``, from the level-0 tiles (C2SP tlog-tiles)."""
    hashes: list[bytes] = []
    for index in range((size + TILE_WIDTH - 1) // TILE_WIDTH):
        width = min(TILE_WIDTH, size - index * TILE_WIDTH)
        digits = str(index)
        digits = digits.zfill(len(digits) + (-len(digits) % 3))
        parts = [digits[i : i + 3] for i in range(0, len(digits), 3)]
        path = "/".join([f"x{p}" for p in parts[:-1]] + [parts[-1]])
        suffix = "" if width == TILE_WIDTH else f".p/{width}"
        data = fetch(f"{log_url}/tile/0/{path}{suffix}")
        if len(data) != 32 * width:
            raise ValueError(f"tile 0/{index} has {len(data)} bytes, not {32 * width}")
        hashes.extend(data[i : i + 32] for i in range(0, len(data), 32))
    return hashes


def run_monitor(
    issuer_url: str,
    *,
    fetch: Fetch,
    now: datetime,
    state_path: Path | None,
    pinned_key: str | None = None,
    tiles: bool = False,
    cosign_key: Ed25519PrivateKey | None = None,
    cosign_name: str | None = None,
) -> MonitorResult:
    log_url = log_url_of(issuer_url)
    state = _read_state(state_path)
    result = MonitorResult(log_url, UNAVAILABLE, "", now)
    try:
        key_text = pinned_key or (state or {}).get("log_key") or fetch(f"{log_url}/key").decode()
        key = note.parse_verifier_key(key_text)
        signed = fetch(f"{log_url}/checkpoint").decode()
    except (Unreachable, NotFound) as exc:
        result.detail = f"the log could not be read: {exc}"
        return result
    except note.NoteError as exc:
        result.outcome, result.detail = REWRITTEN, f"log key: {exc}"
        return result
    try:
        current = note.open_checkpoint(signed, key)
    except note.NoteError as exc:
        # Not signed by the pinned key: a key swap is as bad as a rewrite to a monitor.
        result.outcome, result.detail = REWRITTEN, f"checkpoint: {exc}"
        return result
    result.current = {"size": current.size, "root": base64.b64encode(current.root).decode()}
    if state is not None:
        result.previous = {"size": state["size"], "root": state["root"]}
        old_root = base64.b64decode(state["root"])
        try:
            consistent, how = _consistent(
                log_url, state["size"], old_root, current, fetch=fetch, tiles=tiles
            )
        except (Unreachable, NotFound, ValueError, KeyError) as exc:
            result.detail = f"no consistency proof could be had: {exc}"
            return result
        if not consistent:
            result.outcome = REWRITTEN
            result.detail = (
                f"checkpoint {current.size} does not extend checkpoint {state['size']} seen at "
                f"{state.get('seen_at')}: the log's history was rewritten ({how})"
            )
            result.evidence = [state["checkpoint"], signed]
            return result
        result.detail = f"checkpoint {current.size} extends checkpoint {state['size']} ({how})"
    else:
        result.detail = f"first checkpoint kept: size {current.size} (log key pinned: {key.name})"
    result.outcome = OK
    if cosign_key is not None:
        result.cosigned = note.cosign(
            signed,
            name=cosign_name or "witness",
            private_key=cosign_key,
            timestamp=int(now.timestamp()),
        )
    if state_path is not None:
        _write_state(
            state_path,
            {
                "log": log_url,
                "log_key": key.text,
                "size": current.size,
                "root": base64.b64encode(current.root).decode(),
                "checkpoint": signed,
                "seen_at": iso(now),
            },
        )
    return result


def _consistent(
    log_url: str,
    old_size: int,
    old_root: bytes,
    current: note.Checkpoint,
    *,
    fetch: Fetch,
    tiles: bool,
) -> tuple[bool, str]:
    if old_size == 0:
        return True, "every tree extends the empty one"
    if current.size < old_size:
        return False, f"the tree shrank from {old_size} to {current.size}"
    if tiles:
        hashes = _tree_hashes_from_tiles(log_url, current.size, fetch)
        ok = (
            merkle.root_from_hashes(hashes) == current.root
            and merkle.root_from_hashes(hashes[:old_size]) == old_root
        )
        return ok, "both roots recomputed from the log's tiles"
    if current.size == old_size:
        return current.root == old_root, "same size, roots compared"
    body = json.loads(fetch(f"{log_url}/proof/consistency?from={old_size}&to={current.size}"))
    proof = [base64.b64decode(p) for p in body["proof"]]
    ok = merkle.verify_consistency(old_size, current.size, old_root, current.root, proof)
    return ok, "RFC 9162 consistency proof checked here"
