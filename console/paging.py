"""Keyset pagination for the console's lists: a page is the rows after the last one shown, in
(key, id) order, so it is one range of the same (issuer, key, id) indexes the API's cursor
uses (issuers.models.Member.Meta.indexes), however deep the page."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Model, Q, QuerySet

from config.errors import InvalidInputError


@dataclass(frozen=True)
class Page:
    items: list[Any]
    next_cursor: str | None  # None on the last page


def _encode(values: list[Any]) -> str:
    raw = json.dumps(
        [v.isoformat() if isinstance(v, datetime) else v for v in values], separators=(",", ":")
    )
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(cursor: str, size: int) -> list[Any]:
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except ValueError:
        values = None
    if not isinstance(values, list) or len(values) != size:
        raise InvalidInputError("cursor", "This page link is not valid; start from the first page.")
    return values


def keyset_page(
    queryset: QuerySet, *, order: str, cursor: str | None, size: int, unique: bool = False
) -> Page:
    """One page of ``queryset`` ordered by ``order`` (a field name, ``-`` for descending),
    ties broken by id unless ``unique`` (the key alone orders the rows)."""
    descending = order.startswith("-")
    key = order.lstrip("-")
    keys = [key] if unique else [key, "id"]
    rows = queryset.order_by(*(f"-{k}" if descending else k for k in keys))
    if cursor:
        values = _decode(cursor, len(keys))
        field = queryset.model._meta.get_field(key)
        try:
            values[0] = field.to_python(values[0])
            if not unique:
                values[1] = int(values[1])
        except Exception as exc:  # a forged cursor: bad input, never a 500
            raise InvalidInputError("cursor", "This page link is not valid.") from exc
        after = "lt" if descending else "gt"
        condition = Q(**{f"{key}__{after}": values[0]})
        if not unique:
            # (key, id) after the cursor. The redundant `key >= value` is the bound the
            # planner can start the index range at; the OR alone would be a filter applied
            # while walking the index from its start, slower with every page.
            at_or_after = "lte" if descending else "gte"
            condition = Q(**{f"{key}__{at_or_after}": values[0]}) & (
                condition | Q(**{key: values[0], f"id__{after}": values[1]})
            )
        rows = rows.filter(condition)
    items = list(rows[: size + 1])
    more = len(items) > size
    items = items[:size]
    next_cursor = None
    if more:
        last: Model = items[-1]
        next_cursor = _encode([getattr(last, k) for k in keys])
    return Page(items=items, next_cursor=next_cursor)


def requested_page(
    queryset: QuerySet, *, cursor: str | None, order: str, size: int, unique: bool = False
) -> tuple[Page, str]:
    """The page ``cursor`` asks for and no error, or, for a link that is not valid (edited by
    hand, or kept from before the order changed), the first page and the words saying why: a
    person who followed a stale link still gets a list."""
    try:
        return keyset_page(queryset, order=order, cursor=cursor, size=size, unique=unique), ""
    except InvalidInputError as exc:
        first = keyset_page(queryset, order=order, cursor=None, size=size, unique=unique)
        return first, str(exc)
