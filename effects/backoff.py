"""Retry spacing shared by every side effect that retries (webhooks, notices)."""

from __future__ import annotations

import random


def backoff_seconds(attempt: int, *, base: int = 30, cap: int = 6 * 3600) -> int:
    """Exponential back-off with equal jitter (AWS architecture blog, "Exponential Backoff And
    Jitter"): half the exponential step, plus a random part up to the other half. The jitter
    spreads retries of many failures against one peer; the fixed half keeps a struggling peer
    from being retried almost at once, and keeps the number of attempts a window holds
    predictable (webhooks: 14 to 18 in 24 h).

    Never above ``cap``, which stays below the Redis visibility timeout (settings) so a waiting
    retry is never re-delivered early.
    """
    ceiling = min(cap, base * (2 ** max(attempt - 1, 0)))
    return max(1, int(ceiling / 2 + random.uniform(0, ceiling / 2)))  # noqa: S311 -- retry jitter, not a secret
