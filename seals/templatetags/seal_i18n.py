"""Template filters for dates written the way the active language writes them (seals.i18n),
and hostnames written the way people read them."""

from __future__ import annotations

from datetime import datetime

from django import template

from issuers.domains import display_domain
from seals import i18n

register = template.Library()


@register.filter
def long_day(value: datetime | None) -> str:
    return i18n.long_day(value) if value else ""


@register.filter
def long_datetime(value: datetime | None, seconds: str = "") -> str:
    return i18n.long_datetime(value, seconds=bool(seconds)) if value else ""


@register.filter
def unicode_domain(value: str) -> str:
    """An internationalised domain in Unicode, not its ``xn--`` A-label."""
    return display_domain(value)
