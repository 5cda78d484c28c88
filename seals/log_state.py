"""The state of an issuer's transparency log (its latest checkpoint), supplied from above.

seals sits below the log (import-linter), so the pages that show the log's state ask this
hook, which the transparency app fills when it is ready, as ``seals.history`` does for proofs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class LogState:
    size: int
    at: datetime
    checkpoint_url: str


LogStateProvider = Callable[[int], LogState | None]
_provider: LogStateProvider | None = None


def register_log_state(provider: LogStateProvider | None) -> None:
    global _provider
    _provider = provider


def log_state(issuer_pk: int) -> LogState | None:
    """The issuer's latest checkpoint, or None while it has none (or no log is installed)."""
    return _provider(issuer_pk) if _provider is not None else None
