"""Template filters for dates written the way the active language writes them (seals.i18n)."""

from __future__ import annotations

from datetime import datetime

from django import template

from seals import i18n

register = template.Library()


@register.filter
def long_day(value: datetime | None) -> str:
    return i18n.long_day(value) if value else ""


@register.filter
def long_datetime(value: datetime | None, seconds: str = "") -> str:
    return i18n.long_datetime(value, seconds=bool(seconds)) if value else ""
