"""Read replicas: only reads marked lag-tolerant go there, and never after the same unit's write.

A replica trails its primary by anything from milliseconds to minutes (a long query on it, a
paused replay, a network cut). So the default is the primary, for every read nobody thought
about: a seal's snapshot, verification, credentials and status lists, sign-in, API keys,
anything that decides a status. A read goes to a replica only when all of this holds:

1. replicas are configured (``DATABASE_REPLICA_URLS``, aliases in ``DATABASE_REPLICAS``);
2. the code asked for it: it runs inside ``replica_reads()`` (a context manager and a
   decorator), which the views of lists, statistics, the public register and exports use;
3. this unit of work (a request, a task) has not written yet: the first ``db_for_write`` pins
   it to the primary for the rest of the unit, so nobody reads a replica that may not have their
   own write yet (``PrimaryPinMiddleware`` and a Celery ``task_prerun`` hook start each unit
   unpinned);
4. no transaction is open on the primary (its reads must see its own uncommitted rows).

Where a lag-tolerant list shows a status (the register), the list comes from a replica and the
status rows from the primary (``using(PRIMARY)``), so a revoked seal never reads as valid.

Context variables rather than thread-locals: each request thread and each task starts with
fresh values, and the middleware resets them, so a pin never leaks from one request into the
next one served by the same thread.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.http import HttpRequest, HttpResponse

PRIMARY = DEFAULT_DB_ALIAS

_replica_ok: ContextVar[bool] = ContextVar("trustseal_replica_ok", default=False)
_pinned: ContextVar[bool] = ContextVar("trustseal_primary_pinned", default=False)
_bookkeeping: ContextVar[bool] = ContextVar("trustseal_bookkeeping", default=False)


class replica_reads(contextlib.ContextDecorator):
    """Mark the reads inside as tolerant of replica lag (a decorator or a ``with`` block)."""

    def _recreate_cm(self) -> replica_reads:
        # As a decorator one instance serves every call, in every thread: each call gets its
        # own token.
        return type(self)()

    def __enter__(self) -> replica_reads:
        self._token = _replica_ok.set(True)
        return self

    def __exit__(self, *exc: object) -> None:
        _replica_ok.reset(self._token)


@contextlib.contextmanager
def unit_of_work() -> Iterator[None]:
    """One request or task: unpinned at the start, whatever the thread ran before."""
    ok, pinned = _replica_ok.set(False), _pinned.set(False)
    try:
        yield
    finally:
        _pinned.reset(pinned)
        _replica_ok.reset(ok)


@contextlib.contextmanager
def bookkeeping_writes() -> Iterator[None]:
    """Writes inside do not pin the unit to the primary: bookkeeping no read of the same unit
    depends on (an API key's ``last_used_at``), which would otherwise send every API list to
    the primary."""
    token = _bookkeeping.set(True)
    try:
        yield
    finally:
        _bookkeeping.reset(token)


def reset() -> None:
    """Start a unit of work unpinned (Celery's task_prerun: a pool thread runs many tasks)."""
    _replica_ok.set(False)
    _pinned.set(False)


def pinned_to_primary() -> bool:
    return _pinned.get()


def replica_aliases() -> list[str]:
    return list(getattr(settings, "DATABASE_REPLICAS", []))


class ReplicaRouter:
    """Django database router (settings ``DATABASE_ROUTERS``)."""

    def db_for_read(self, model: type, **hints: Any) -> str:
        replicas = replica_aliases()
        if not replicas or not _replica_ok.get() or _pinned.get():
            return PRIMARY
        if connections[PRIMARY].in_atomic_block:
            return PRIMARY
        return random.choice(replicas)  # noqa: S311 (load spreading, not security)

    def db_for_write(self, model: type, **hints: Any) -> str:
        if not _bookkeeping.get():
            _pinned.set(True)
        return PRIMARY

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        same = {PRIMARY, *replica_aliases()}
        if obj1._state.db in same and obj2._state.db in same:
            return True
        return None

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        # A replica replays the primary's schema; migrating it directly would fail (read-only).
        return db == PRIMARY or db not in replica_aliases()


class PrimaryPinMiddleware:
    """Each request starts unpinned and with no replica reads marked (see module docstring)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with unit_of_work():
            return self.get_response(request)
