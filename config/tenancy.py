"""Tenancy by construction (DESIGN §1.5): an issuer's rows are read only inside that issuer's scope.

The models an issuer owns (programmes, members, seals and their events, signing keys, imports,
data requests, webhooks and deliveries, notices, statistics) use ``IssuerScopedManager``:
inside ``issuer_scope(issuer)`` every query through it, related managers included, is filtered to
that issuer; with no scope active it refuses to run (``ScopeError``), so a query that forgot its
tenant fails loudly instead of reading everyone's rows. Who opens the scope:

- the issuer API's base view, once the API key is authenticated (issuers/api/base.py);
- a task, for the issuer of the row it was given (workers/), or with scopes disabled for a sweep;
- ``scopes_disabled()`` where a query truly spans issuers: public pages (seals are looked up by
  public id, issuers by slug), beat sweeps, the admin, operators' commands. Migrations use
  historical models, whose managers are plain.

The scope itself is django-scopes' (pretix's): ``scope``/``scopes_disabled`` on a ContextVar, so
threads and async tasks each have their own, and its refusing queryset. Kept (2.1 supports Django
5.2 and 6.0) and small, so it is pinned below 3 and used as is, except for one part: the manager.
django-scopes filters by the lookup path as given, so a model scoped through a relation
(``seal__issuer``) gets a join in every query; Django then turns each conditional UPDATE into
``UPDATE … WHERE id IN (SELECT … JOIN …)``, which PostgreSQL does not re-check against a row a
concurrent transaction just changed, and the claims of notices and deliveries (one conditional
UPDATE each) would stop being exclusive. The manager here filters the foreign key column by a
subquery instead (``seal_id IN (SELECT id FROM seal WHERE issuer_id = …)``): no join, and every
UPDATE stays single-table with its own conditions.

Limits kept in view: the scope is read when a queryset is *created*, so a class-level
``queryset = Model.objects...`` built at import is refused (the API views read theirs per
request); an unscoped ``.exists()``, ``.create()`` or ``.bulk_create()`` is let through.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, ClassVar, TypeVar

from django.db import models
from django.http import HttpRequest, HttpResponse
from django_scopes import get_scope, scope, scopes_disabled
from django_scopes.exceptions import ScopeError
from django_scopes.manager import DisabledQuerySet

__all__ = [
    "IssuerScopedManager",
    "ScopeError",
    "issuer_scope",
    "scopes_disabled",
]


_M = TypeVar("_M", bound=models.Model)


class IssuerScopedManager(models.Manager[_M]):
    """The default manager of a model an issuer owns (``objects = IssuerScopedManager()``).

    ``issuer_path`` is the lookup path from the model to its Issuer, one relation deep at most:
    a model owned through a relation subclasses this with its own path (``"seal__issuer"`` for
    a seal's notices), and one with its own queryset uses ``from_queryset``. It is a class
    attribute, not a constructor argument, because Django builds related managers as subclasses
    of the default manager's class and calls them with no arguments; and real classes (rather
    than ones built at run time) let the type checker know every model's manager.
    """

    issuer_path: ClassVar[str] = "issuer"

    def get_queryset(self) -> models.QuerySet[_M]:
        current = get_scope()
        if not current.get("_enabled", True):  # scopes_disabled()
            return super().get_queryset()
        issuer = current.get("issuer")
        if issuer is None:
            refused: models.QuerySet[_M] = DisabledQuerySet(
                self.model, using=self._db, missing_scopes=["issuer"]
            )
            return refused
        return super().get_queryset().filter(self._of(issuer))

    def all(self) -> models.QuerySet[_M]:
        # Manager.all() hands back get_queryset() untouched: refuse here, not at evaluation.
        queryset = self.get_queryset()
        return queryset.all() if isinstance(queryset, DisabledQuerySet) else queryset

    def _of(self, issuer: Any) -> models.Q:
        relation, _, rest = self.issuer_path.partition("__")
        if not rest:
            return models.Q(**{relation: issuer})
        related = self.model._meta.get_field(relation).related_model
        if not (isinstance(related, type) and issubclass(related, models.Model)):
            raise TypeError(f"{self.model.__name__}.{relation} is not a relation to a model")
        owned = related._base_manager.filter(**{rest: issuer}).values("pk")
        return models.Q(**{f"{relation}__in": owned})


def issuer_scope(issuer: Any) -> AbstractContextManager[None]:
    """Queries inside see only ``issuer``'s rows (an Issuer or its id)."""
    if issuer is None:
        raise TypeError("issuer_scope needs an issuer, not None")
    return scope(issuer=issuer)


class AdminScopesMiddleware:
    """The admin spans issuers (staff look after all of them): its requests run with scopes
    disabled. Every other request starts with no scope (the API opens its issuer's)."""

    prefix = "/console/admin/"  # the admin shares the console's cookie path (config.urls)

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith(self.prefix):
            with scopes_disabled():
                return self.get_response(request)
        return self.get_response(request)


def issuer_of(model: type[models.Model], pk: int, path: str = "issuer_id") -> int | None:
    """The id of the issuer a task acts for, read from the row it was given (``path`` leads
    from the model to it); None when the row is gone. The one query a task makes before its
    scope is open: all it has is the row's id."""
    with scopes_disabled():
        return model._default_manager.filter(pk=pk).values_list(path, flat=True).first()
