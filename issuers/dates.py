"""Dates without a time, read in the issuer's time zone.

An expiry given as a date (``2027-12-31``) means the seal holds to the end of that day where the
issuer is, not until the midnight that starts it; a start date means the start of that day. A
date-time is an instant already and is taken as given (a naive one as UTC, as everywhere in the
API). Seals' boundaries are half-open (``seals.status``), so the end of a day is the start of the
next one.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django.core.exceptions import ValidationError

if TYPE_CHECKING:  # the models use this module's validator
    from issuers.models import Issuer

DateOrTime = date | datetime


def validate_time_zone(name: str) -> None:
    """An IANA time zone name (``Europe/Berlin``, ``UTC``)."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(
            f"{name!r} is not an IANA time zone name (such as Europe/London or UTC).",
            code="invalid",
        ) from exc
    if name not in available_timezones() and name != "UTC":
        # ZoneInfo also opens files such as "posixrules" that are not zone names.
        raise ValidationError(f"{name!r} is not an IANA time zone name.", code="invalid")


def check_day(day: date) -> date:
    """A day every time zone can hold in both directions; ``ValueError`` otherwise (the first
    and last days of the calendar overflow once moved to UTC or to the next day)."""
    if not 1 < day.year < 9999:
        raise ValueError(f"{day.isoformat()} is outside the years 0002 to 9998.")
    return day


def issuer_zone(issuer: Issuer) -> ZoneInfo:
    return ZoneInfo(issuer.time_zone or "UTC")


def start_of(value: DateOrTime, zone: ZoneInfo) -> datetime:
    """The instant ``value`` starts at: a date's first moment in ``zone``."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.combine(check_day(value), time.min, tzinfo=zone)


def end_of(value: DateOrTime, zone: ZoneInfo) -> datetime:
    """The (exclusive) instant ``value`` ends at: for a date, the start of the next day in
    ``zone``."""
    if isinstance(value, datetime):
        return start_of(value, zone)
    return datetime.combine(check_day(value) + timedelta(days=1), time.min, tzinfo=zone)
