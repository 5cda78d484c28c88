"""Bulk import: upsert members (and their seals) by external reference from CSV or JSON.

CSV: UTF-8 (a BOM is tolerated), comma-separated, a header row with the columns of
``COLUMNS`` (``external_ref`` and ``legal_name`` required, any order, unknown columns refused).
JSON: UTF-8 (RFC 8259 §8.1), a list of objects with the same keys, or ``{"rows": [...]}``.
Rows are numbered from 1 (the first data row; in a CSV that is line 2).

Each valid row creates the member or updates it (matched on ``external_ref``), then makes sure
it holds a live seal in ``programme`` (the default programme when blank): awarded when missing,
renewed when ``expires_at`` is given and differs.

Modes: ``all_or_nothing`` (default) writes nothing when any row fails; ``partial`` writes the
valid rows. ``dry_run`` checks everything and writes nothing.

How a file runs:

1. ``import_start`` reads the file once as a stream (``import_count``): problems of the file as
   a whole (encoding, header, shape, more than MAX_ROWS rows) are answered at once.
2. Up to ASYNC_THRESHOLD rows run at once, in the request's transaction. A larger file is kept
   on an ImportJob (gzip-compressed, then encrypted) and owed as an outbox message
   ``import.run`` on the ``jobs`` queue, written in the same transaction as the job.
3. A run streams the file in batches of IMPORT_BATCH_ROWS rows (settings). Each batch is checked
   and written in its own short transaction, which also moves the job's cursor and counts and
   renews the outbox lease: on SQLite, readers and other writers get the database between two
   batches, and a worker that dies loses at most the batch it was in. An all-or-nothing import
   first checks every row (phase ``check``, nothing written), then writes a clean file (phase
   ``write``).
4. When a worker dies, the outbox relay hands the message out again once its lease has passed;
   the next run skips the rows before the cursor (re-checking them only to find duplicates of
   them later in the file) and goes on. A job that has started MAX_RUNS runs, or whose file is
   gone, ends ``failed`` with a ``reason``.
5. The end is recorded with one ``import.completed`` webhook in the same transaction. Per-seal
   webhooks go only to endpoints that list the seal event type by name: a 20,000-row import is
   one delivery to a catch-all endpoint, not 20,000. SealEvents are recorded per seal as ever.

Rows are checked by hand-written code rather than a serializer per row: 100,000 serializer
instances cost more than the whole rest of the import (bench/import.py).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import logging
import re
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import islice
from time import monotonic, sleep
from typing import Any
from zoneinfo import ZoneInfo

import ijson
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from config.bulk import bulk_insert
from config.errors import ConflictError, DomainError
from config.tenancy import issuer_of, issuer_scope
from issuers.countries import country_problem
from issuers.dates import end_of, issuer_zone, start_of
from issuers.domains import normalise_domains
from issuers.encryption import blind_index
from issuers.events import webhook_emit
from issuers.models import ImportJob, ImportRowError, Issuer, Member, Programme
from issuers.text import text_problem
from outbox import core as outbox
from outbox.models import Message

log = logging.getLogger(__name__)

COLUMNS = ("external_ref", *Member.PROFILE_FIELDS, "programme", "valid_from", "expires_at")
REQUIRED = ("external_ref", "legal_name")
MAX_LENGTH = {
    "external_ref": 100,
    "legal_name": 300,
    "display_name": 300,
    "contact_name": 200,
    "contact_email": 254,
    "contact_phone": 50,
}
ASYNC_THRESHOLD = 1000
MAX_ROWS = 200_000
# Row errors in the job's own answer (``ImportJob.errors``); every one is also stored as an
# ImportRowError, listed and downloaded in full.
ERRORS_KEPT = 100
# Personal data: an error on contact_name, contact_email or contact_phone names the
# field and the problem, never the value. Errors are stored in clear on the ImportJob and
# outlive the member's erasure (a rejected value is not the member's stored contact, so erasure
# cannot find it), so quoting one would keep it for good.
# Runs a job may start (the first plus resumes after a dead worker or a lost database) before it
# is given up: a file that kills its worker every time must end, not loop.
MAX_RUNS = 5
IMPORT_TOPIC = "import.run"
# SQLite has one write lock for the whole database, and a writer waiting for it is woken by its
# busy handler only now and then (up to 100 ms apart): a run that took the lock again the
# moment it let go could starve a status poll or a webhook claim until busy_timeout. Checking
# the next batch usually takes longer than this gap; the run makes sure of it.
SQLITE_BATCH_GAP = 0.15
_DOMAIN_SPLIT = re.compile(r"[\s,;]+")
_GZIP_MAGIC = b"\x1f\x8b"
_JSON_SHAPE = 'The JSON must be a list of row objects (or {"rows": [...]}).'


class ImportFileError(DomainError):
    """The file as a whole is unusable (encoding, headers, shape): nothing is read from it
    (API: 400 on ``file``)."""

    field = "file"


@dataclass
class ImportReport:
    total: int = 0
    processed: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)  # the first ERRORS_KEPT
    error_count: int = 0  # every error found, stored or not yet
    # Every error found since the last ``_store_errors``: written with the batch that found it.
    unstored: list[dict[str, Any]] = field(default_factory=list)
    written: bool = False
    # What the rows do to seals (a dry run counts what they would do): awarded where the
    # member holds no live seal in the programme, renewed where the row's expiry differs.
    seals_awarded: int = 0
    seals_renewed: int = 0
    seals_unchanged: int = 0

    def error(self, row: int, field_name: str | None, message: str, code: str = "invalid") -> None:
        error = {"row": row, "field": field_name, "message": message, "code": code}
        self.error_count += 1
        if len(self.errors) < ERRORS_KEPT:
            self.errors.append(error)
        self.unstored.append(error)


def _store_errors(job: ImportJob, report: ImportReport) -> None:
    """Append the errors found since the last call to the job's full list. Called inside the
    transaction that moves the job's cursor past the rows that had them: a run that dies
    before its commit leaves neither, and the next run finds them again."""
    if not report.unstored:
        return
    ImportRowError.objects.bulk_create(
        [
            ImportRowError(
                job_id=job.pk,
                row=error["row"],
                field=error["field"] or "",
                code=error["code"],
                message=error["message"],
            )
            for error in report.unstored
        ],
        batch_size=1000,
    )
    report.unstored.clear()


@dataclass
class _Row:
    number: int
    values: dict[str, Any]
    programme: Programme
    valid_from: datetime | None
    expires_at: datetime | None


# A way to open the file from its start, as many times as a run needs (a count, a resume).
# An upload is read from memory, a stored file through its gzip layer.
Stream = io.BytesIO | gzip.GzipFile
Source = Callable[[], Stream]


# --- reading --------------------------------------------------------------------------------


def import_source(data: bytes) -> Source:
    return lambda: io.BytesIO(data)


def import_read(*, source: Source, fmt: str) -> Iterator[dict[str, Any]]:
    """The rows one at a time, as dicts of strings (CSV) or JSON values; raises
    ImportFileError (possibly after some rows: a file is checked whole by ``import_count``)."""
    if fmt == "csv":
        return _csv_rows(source)
    if fmt == "json":
        return _json_rows(source)
    raise ImportFileError(f"Unknown format {fmt!r}; use csv or json.")


def import_count(*, source: Source, fmt: str) -> int:
    """Read the whole file once, keeping nothing but its row count and (JSON) its keys; raises
    ImportFileError for a file that cannot run."""
    rows = 0
    keys: set[str] = set()
    for row in import_read(source=source, fmt=fmt):
        rows += 1
        if fmt == "json":
            keys.update(row)
    # Required keys are checked per row, so a row without one gets its own row error.
    _check_columns(sorted(keys), require=False)
    if not rows:
        raise ImportFileError("The file has no data rows.")
    if rows > MAX_ROWS:
        raise ImportFileError(f"The file has {rows} rows; the limit is {MAX_ROWS}.")
    return rows


def _check_columns(columns: Iterable[str], *, require: bool = True) -> None:
    columns = list(columns)
    unknown = [c for c in columns if c not in COLUMNS]
    if unknown:
        raise ImportFileError(
            f"Unknown column(s): {', '.join(unknown)}. Allowed: {', '.join(COLUMNS)}."
        )
    missing = [c for c in REQUIRED if c not in columns]
    if require and missing:
        raise ImportFileError(f"Missing required column(s): {', '.join(missing)}.")


def _csv_rows(source: Source) -> Iterator[dict[str, Any]]:
    # newline="" as the csv module asks: quoted fields may hold line breaks, and \r alone still
    # ends a line (old spreadsheet exports).
    text = io.TextIOWrapper(source(), encoding="utf-8-sig", newline="")
    reader = csv.reader(text)
    try:
        columns = _csv_header(reader)
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue  # blank lines, common at the end of exported files
            row: dict[str, Any] = dict(zip(columns, cells, strict=False))
            if len(cells) > len(columns):
                row["__extra__"] = cells[len(columns) :]
            yield row
    except csv.Error as exc:
        raise ImportFileError(f"The CSV is malformed at line {reader.line_num}: {exc}.") from exc
    except UnicodeDecodeError:
        raise ImportFileError(_not_utf8(source)) from None
    finally:
        text.close()


def _csv_header(reader: Iterator[list[str]]) -> list[str]:
    header = next(reader, None)
    if header is None:
        raise ImportFileError("The CSV is empty; it needs a header row.")
    columns = [h.strip().lower() for h in header]
    _check_columns(columns)
    if len(set(columns)) != len(columns):
        raise ImportFileError("A column appears twice in the header row.")
    return columns


def _not_utf8(source: Source) -> str:
    # The stream decoder knows only its own chunk; the whole file, read again on this error
    # path only, gives the offset a person can look up.
    with source() as stream:
        try:
            stream.read().decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            where = f" (invalid byte at offset {exc.start})"
        else:
            where = ""
    return f"The CSV is not UTF-8{where}; export it as 'CSV UTF-8'."


def _json_rows(source: Source) -> Iterator[dict[str, Any]]:
    first = _json_first_byte(source)
    if first not in (b"[", b"{"):
        raise ImportFileError(_JSON_SHAPE if first else "The JSON is malformed: it is empty.")
    stream = _json_stream(source)
    try:
        # ijson's C backend (yajl2_c) streams one row object at a time; floats as json.loads
        # gives them, so "1.5" reads the same either way.
        for row in ijson.items(stream, "item" if first == b"[" else "rows.item", use_float=True):
            if not isinstance(row, dict):
                raise ImportFileError(_JSON_SHAPE)
            yield row
    except ijson.JSONError:
        raise ImportFileError(_json_problem(source)) from None
    finally:
        stream.close()


def _json_stream(source: Source) -> Stream:
    stream = source()
    if stream.read(3) != b"\xef\xbb\xbf":  # a BOM, which yajl refuses and json.loads skips
        stream.seek(0)
    return stream


def _json_first_byte(source: Source) -> bytes:
    with _json_stream(source) as stream:
        while chunk := stream.read(4096):
            if stripped := chunk.lstrip(b" \t\r\n"):
                return stripped[:1]
    return b""


def _json_problem(source: Source) -> str:
    # yajl's messages quote the file around the error (personal data); json.loads's name a
    # line and column only. Read whole on this error path only.
    with _json_stream(source) as stream:
        try:
            json.loads(stream.read())
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            return f"The JSON is malformed: {exc}."
    return "The JSON is malformed."


def _pack(data: bytes) -> bytes:
    # Level 1: the request waits for it; the 26 MB CSV of bench/import.py packs to 3.3 MB.
    packer = zlib.compressobj(1, zlib.DEFLATED, 31)  # wbits 31: a gzip stream
    return packer.compress(data) + packer.flush()


def _stored_source(blob: bytes) -> Source:
    if blob[:2] == _GZIP_MAGIC:  # never the start of a UTF-8 text: 0x8b is a continuation byte
        return lambda: gzip.GzipFile(fileobj=io.BytesIO(blob))
    return import_source(blob)  # kept before files were compressed


# --- checking -------------------------------------------------------------------------------

_Problem = tuple[str | None, str, str]  # field, message, code
_TEXTS = ("external_ref", "legal_name", "display_name", "contact_name", "contact_phone")


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _moment(value: Any, zone: ZoneInfo, *, end: bool) -> datetime | None:
    """ISO 8601 date-time (naive means UTC) or date: the start of that day in the issuer's time
    zone, or its end for an expiry (issuers.dates)."""
    raw = _text(value)
    if not raw:
        return None
    day = parse_date(raw) if len(raw) == 10 else None
    if day is not None:
        return end_of(day, zone) if end else start_of(day, zone)
    moment = parse_datetime(raw)
    if moment is None:
        raise ValueError(f"{raw!r} is not an ISO 8601 date or date-time (2027-01-31).")
    return start_of(moment, zone)


def _email_problem(value: str) -> str:
    """What is wrong with a contact e-mail, without repeating it (personal data: see above)."""
    local, at, domain = value.rpartition("@")
    if not at:
        return "Not a valid e-mail address: it has no '@'."
    if not local:
        return "Not a valid e-mail address: nothing before the '@'."
    if "." not in domain:
        return "Not a valid e-mail address: the part after the '@' is not a domain name."
    return "Not a valid e-mail address."


def _check_texts(raw: dict[str, Any], problems: list[_Problem]) -> dict[str, Any]:
    values: dict[str, Any] = {name: _text(raw.get(name)) for name in _TEXTS}
    values["contact_email"] = _text(raw.get("contact_email")).lower()
    for name, value in values.items():
        # The API's rule (issuers.text): controls (NUL included, which PostgreSQL cannot store),
        # lone surrogates and noncharacters would break the seal image. The message names the
        # code point and its position, never the value (contact fields are personal data).
        problem = text_problem(value)
        if problem is not None:
            problems.append((name, problem, "invalid_character"))
    for name in REQUIRED:
        if not values[name]:
            problems.append((name, "This field is required.", "required"))
    for name, limit in MAX_LENGTH.items():
        if len(values[name]) > limit:
            problems.append((name, f"At most {limit} characters.", "max_length"))
    values["display_name"] = values["display_name"] or values["legal_name"]
    _check_email(values["contact_email"], problems)
    return values


def _check_email(value: str, problems: list[_Problem]) -> None:
    if not value:
        return
    try:
        validate_email(value)
    except ValidationError:
        problems.append(("contact_email", _email_problem(value), "invalid"))


def _check_country(raw: dict[str, Any], problems: list[_Problem]) -> str:
    given = _text(raw.get("country"))
    if (problem := country_problem(given)) is not None:
        problems.append(("country", problem, "invalid"))
    return given.strip().upper()


def _check_domains(raw: dict[str, Any], problems: list[_Problem]) -> list[str]:
    given = raw.get("domains")
    if isinstance(given, list):
        names = [_text(d) for d in given if _text(d)]
    else:
        names = [d for d in _DOMAIN_SPLIT.split(_text(given)) if d]
    try:
        return normalise_domains(names)
    except ValidationError as exc:
        problems.append(("domains", exc.messages[0], "invalid"))
        return []


def _check_programme(
    raw: dict[str, Any],
    programmes: dict[str, Programme],
    default: Programme,
    problems: list[_Problem],
) -> Programme | None:
    slug = _text(raw.get("programme"))
    programme = programmes.get(slug) if slug else default
    if programme is None:
        problems.append(("programme", f"No programme with slug {slug!r}.", "does_not_exist"))
    return programme


def _check_dates(
    raw: dict[str, Any], zone: ZoneInfo, problems: list[_Problem]
) -> tuple[datetime | None, datetime | None]:
    moments: dict[str, datetime | None] = {}
    for name in ("valid_from", "expires_at"):
        try:
            moments[name] = _moment(raw.get(name), zone, end=name == "expires_at")
        except ValueError as exc:
            problems.append((name, str(exc), "invalid"))
    valid_from, expires_at = moments.get("valid_from"), moments.get("expires_at")
    if expires_at and expires_at <= (valid_from or timezone.now()):
        problems.append(("expires_at", "Must be after valid_from (and in the future).", "invalid"))
    return valid_from, expires_at


def _check_row(
    number: int,
    raw: dict[str, Any],
    programmes: dict[str, Programme],
    default: Programme,
    zone: ZoneInfo,
    report: ImportReport,
) -> _Row | None:
    problems: list[_Problem] = []
    if raw.get("__extra__"):
        problems.append((None, "The row has more cells than the header has columns.", "invalid"))
    values = _check_texts(raw, problems)
    values["country"] = _check_country(raw, problems)
    values["domains"] = _check_domains(raw, problems)
    programme = _check_programme(raw, programmes, default, problems)
    valid_from, expires_at = _check_dates(raw, zone, problems)
    if problems or programme is None:
        report.failed += 1
        for field_name, message, code in problems:
            report.error(number, field_name, message, code)
        return None
    return _Row(number, values, programme, valid_from, expires_at)


def _refuse_erased(issuer: Issuer, rows: list[_Row], report: ImportReport) -> list[_Row]:
    """An erased member's record never changes again (as through the API): a row naming one is
    an error, or the import would bring back what was destroyed."""
    erased = set(
        Member.objects.filter(
            issuer=issuer,
            erased_at__isnull=False,
            external_ref__in=[row.values["external_ref"] for row in rows],
        ).values_list("external_ref", flat=True)
    )
    kept = []
    for row in rows:
        if row.values["external_ref"] in erased:
            report.failed += 1
            report.error(
                row.number,
                "external_ref",
                f"Member {row.values['external_ref']!r} was erased; its record can no longer "
                "change. Give the organisation a new reference if it rejoins.",
                "member_erased",
            )
        else:
            kept.append(row)
    return kept


# --- planning and writing a batch -----------------------------------------------------------


@dataclass
class _Plan:
    """One batch's changes to members, decided before anything is written."""

    rows: list[_Row]
    members: dict[str, Member]  # by external_ref: every row's member, the new ones unsaved
    new: list[Member] = field(default_factory=list)
    changed: dict[str, list[str]] = field(default_factory=dict)  # external_ref -> fields


def _plan(issuer: Issuer, rows: list[_Row], report: ImportReport) -> _Plan:
    """Count what the rows would do (created, updated, unchanged) and prepare the members."""
    refs = [row.values["external_ref"] for row in rows]
    existing = {
        m.external_ref: m for m in Member.objects.filter(issuer=issuer, external_ref__in=refs)
    }
    plan = _Plan(rows, existing)
    for row in rows:
        member = existing.get(row.values["external_ref"])
        if member is None:
            report.created += 1
            member = Member(issuer=issuer, **row.values)
            member.contact_email_hash = blind_index(member.contact_email)
            plan.new.append(member)
            plan.members[member.external_ref] = member
            continue
        changed = [f for f in Member.PROFILE_FIELDS if getattr(member, f) != row.values[f]]
        if not changed:
            report.unchanged += 1
            continue
        report.updated += 1
        plan.changed[member.external_ref] = changed
        for name in changed:
            setattr(member, name, row.values[name])
        if "contact_email" in changed:
            member.contact_email_hash = blind_index(member.contact_email)
    return plan


def _write(issuer: Issuer, plan: _Plan, actor: str, report: ImportReport) -> None:
    now = timezone.now()
    _save_members(plan, now)
    _award_or_renew(plan, _seal_changes(plan, now, report), now, actor)
    _record_details_changed(issuer, plan, now, actor)


def _save_members(plan: _Plan, now: datetime) -> None:
    bulk_insert(Member, plan.new)
    if not plan.changed:
        return
    updated = [plan.members[ref] for ref in plan.changed]
    fields = sorted({f for names in plan.changed.values() for f in names})
    if "contact_email" in fields:
        fields.append("contact_email_hash")
    for member in updated:
        member.updated_at = now
    Member.objects.bulk_update(updated, [*fields, "updated_at"], batch_size=1000)


def _live_seals(plan: _Plan, now: datetime) -> dict[tuple[int, int], Any]:
    """The batch's members' live seals, by (member, programme)."""
    from seals.models import Seal, SealStatus

    # A member not yet saved (a dry run's new one) has no pk, and no seal to find.
    member_ids = [plan.members[row.values["external_ref"]].pk for row in plan.rows]
    member_ids = [pk for pk in member_ids if pk is not None]
    seals = Seal.objects.filter(member_id__in=member_ids).exclude(
        status__in=[SealStatus.REVOKED, SealStatus.EXPIRED]
    )
    return {
        (seal.member_id, seal.programme_id): seal
        for seal in seals
        if seal.expires_at is None or seal.expires_at > now
    }


@dataclass
class _SealChanges:
    awards: list[tuple[Member, Programme, datetime, datetime]]
    renewals: list[tuple[Any, datetime]]  # (seal, new expiry)


def _seal_changes(plan: _Plan, now: datetime, report: ImportReport) -> _SealChanges:
    """What the batch does to seals, counted on the report; a dry run stops here."""
    live = _live_seals(plan, now)
    changes = _SealChanges([], [])
    for row in plan.rows:
        member = plan.members[row.values["external_ref"]]
        seal = live.get((member.pk, row.programme.pk)) if member.pk is not None else None
        if seal is None:
            valid_from = row.valid_from or now
            expires_at = row.expires_at or valid_from + timedelta(days=row.programme.validity_days)
            changes.awards.append((member, row.programme, valid_from, expires_at))
        elif row.expires_at and row.expires_at != seal.expires_at:
            changes.renewals.append((seal, row.expires_at))
        else:
            report.seals_unchanged += 1
    report.seals_awarded += len(changes.awards)
    report.seals_renewed += len(changes.renewals)
    return changes


def _award_or_renew(plan: _Plan, changes: _SealChanges, now: datetime, actor: str) -> None:
    from seals.services import seal_award_many, seal_renew

    for seal, expires_at in changes.renewals:
        seal_renew(seal=seal, expires_at=expires_at, reason="import", actor=actor, listed_only=True)
    awards = changes.awards
    # listed_only: the import announces itself once (import.completed); per-seal webhooks go
    # only to endpoints that asked for that event type by name.
    seal_award_many(awards=awards, actor=actor, listed_only=True)


def _record_details_changed(issuer: Issuer, plan: _Plan, now: datetime, actor: str) -> None:
    from seals import snapshot
    from seals.chain import record_events
    from seals.models import Seal, SealEvent, SealStatus

    public_changes = {
        plan.members[ref].pk: [f for f in names if f in Member.PUBLIC_FIELDS]
        for ref, names in plan.changed.items()
    }
    public_changes = {pk: names for pk, names in public_changes.items() if names}
    if not public_changes:
        return
    touched = list(
        Seal.objects.filter(member_id__in=list(public_changes))
        .exclude(status=SealStatus.REVOKED)
        .order_by("id")
    )
    record_events(
        issuer_id=issuer.pk,
        entries=[
            (s, SealEvent.Kind.DETAILS_CHANGED, {"fields": public_changes[s.member_id]})
            for s in touched
        ],
        actor=actor,
        at=now,
    )
    ids = [s.public_id for s in touched]
    transaction.on_commit(lambda: snapshot.invalidate_seals(ids))


# --- a run ----------------------------------------------------------------------------------


def _give_way(committed: float | None) -> None:
    if committed is None or connection.vendor != "sqlite" or connection.in_atomic_block:
        return  # PostgreSQL locks rows; a synchronous import is one transaction anyway
    wait = SQLITE_BATCH_GAP - (monotonic() - committed)
    if wait > 0:
        sleep(wait)


class _Superseded(Exception):
    """Another run of the same job moved its cursor first: this one stops, writing nothing."""


@dataclass
class _Run:
    """One pass over the file, batch by batch, carrying on from the job's cursor."""

    job: ImportJob
    source: Source
    actor: str
    lease: Message | None
    report: ImportReport
    programmes: dict[str, Programme]
    default: Programme
    zone: ZoneInfo  # the issuer's: where a date without a time starts and ends
    seen: dict[str, int] = field(default_factory=dict)  # external_ref -> first row

    @classmethod
    def of(cls, job: ImportJob, source: Source, actor: str, lease: Message | None) -> _Run:
        programmes = {p.slug: p for p in Programme.objects.filter(issuer_id=job.issuer_id)}
        report = _report_of(job)
        default = next(p for p in programmes.values() if p.is_default)
        return cls(job, source, actor, lease, report, programmes, default, issuer_zone(job.issuer))

    def run(self) -> None:
        """Check, then (all-or-nothing with a clean file) write; returns when the file is done."""
        if self.job.phase == ImportJob.Phase.CHECK:
            self._pass()
            if self.job.dry_run or self.report.failed or self.job.mode == ImportJob.Mode.PARTIAL:
                return
            self._advance(phase=ImportJob.Phase.WRITE, cursor=0)
            self.seen.clear()
        self._pass()

    def _pass(self) -> None:
        rows = enumerate(import_read(source=self.source, fmt=self.job.format), start=1)
        self._skip(rows, self.job.cursor)
        committed: float | None = None
        while batch := list(islice(rows, settings.IMPORT_BATCH_ROWS)):
            checked = self._check(batch)
            writing = self.job.phase == ImportJob.Phase.WRITE
            plan = (
                _plan(self.job.issuer, checked, self.report)
                if writing or self.job.dry_run
                else None
            )
            _give_way(committed)
            with transaction.atomic():
                self._advance(phase=self.job.phase, cursor=batch[-1][0])
                if writing and plan is not None:
                    _write(self.job.issuer, plan, self.actor, self.report)
                    self.report.written = True
                elif plan is not None:  # a dry run: count what the batch would do to seals
                    _seal_changes(plan, timezone.now(), self.report)
                _store_errors(self.job, self.report)
                if self.lease is not None:
                    outbox.renew(self.lease)
            committed = monotonic()

    def _skip(self, rows: Iterator[tuple[int, dict[str, Any]]], count: int) -> None:
        """Pass over rows already done, remembering their references for duplicate checks."""
        scratch = ImportReport()
        for number, raw in islice(rows, count):
            row = _check_row(number, raw, self.programmes, self.default, self.zone, scratch)
            if row is not None:
                self.seen.setdefault(row.values["external_ref"], number)
            if self.lease is not None and number % settings.IMPORT_BATCH_ROWS == 0:
                outbox.renew(self.lease)  # re-checking is a batch's work too

    def _check(self, batch: list[tuple[int, dict[str, Any]]]) -> list[_Row]:
        checked = []
        for number, raw in batch:
            row = _check_row(number, raw, self.programmes, self.default, self.zone, self.report)
            if row is None:
                continue
            first = self.seen.setdefault(row.values["external_ref"], number)
            if first == number:
                checked.append(row)
                continue
            self.report.failed += 1
            self.report.error(
                number, "external_ref", f"Duplicate of row {first} in this file.", "unique"
            )
        # A row counts once even when a check phase and a write phase both read it.
        self.report.processed = max(self.report.processed, batch[-1][0])
        return _refuse_erased(self.job.issuer, checked, self.report)

    def _advance(self, *, phase: str, cursor: int) -> None:
        """Move the job to (phase, cursor) with the counts so far, if no other run has moved it
        since this one read it (a conditional UPDATE: the row lock orders two runs)."""
        report = self.report
        moved = ImportJob.objects.filter(
            pk=self.job.pk,
            state=ImportJob.State.RUNNING,
            phase=self.job.phase,
            cursor=self.job.cursor,
        ).update(
            phase=phase,
            cursor=cursor,
            processed=report.processed,
            created=report.created,
            updated=report.updated,
            unchanged=report.unchanged,
            failed=report.failed,
            errors=report.errors,
            error_count=report.error_count,
            seals_awarded=report.seals_awarded,
            seals_renewed=report.seals_renewed,
            seals_unchanged=report.seals_unchanged,
            updated_at=timezone.now(),
        )
        if not moved:
            raise _Superseded
        self.job.phase, self.job.cursor = phase, cursor


# --- jobs -----------------------------------------------------------------------------------


def _first_phase(mode: str, dry_run: bool) -> str:
    if mode == ImportJob.Mode.PARTIAL and not dry_run:
        return ImportJob.Phase.WRITE
    return ImportJob.Phase.CHECK


def import_start(
    *,
    issuer: Issuer,
    data: bytes,
    fmt: str,
    mode: str = ImportJob.Mode.ALL_OR_NOTHING,
    dry_run: bool = False,
    actor: str,
) -> tuple[ImportJob, ImportReport | None]:
    """Check the file, then run at once (up to ASYNC_THRESHOLD rows: the report is returned) or
    queue a job (the report is None; follow the job). Raises ImportFileError."""
    source = import_source(data)
    total = import_count(source=source, fmt=fmt)
    job = ImportJob(
        issuer=issuer,
        format=fmt,
        mode=mode,
        dry_run=dry_run,
        total=total,
        phase=_first_phase(mode, dry_run),
    )
    if total > ASYNC_THRESHOLD or dry_run:
        # Personal data: cleared as soon as the job has run, except a dry run's, kept so that
        # ``import_confirm`` can write the checked file (retention drops it after
        # RETENTION_IMPORT_SOURCE_DAYS, with any other finished job's).
        job.source = _pack(data)
    if total > ASYNC_THRESHOLD:
        with transaction.atomic():
            job.save()
            outbox.put(IMPORT_TOPIC, {"job_id": job.pk, "actor": actor})
        return job, None
    # Small enough for one transaction: the job and its rows commit together or not at all.
    with transaction.atomic():
        job.state, job.attempts = ImportJob.State.RUNNING, 1
        job.save()
        run = _Run.of(job, source, actor, lease=None)
        run.run()
        _finish(job, run.report)
    return job, run.report


@outbox.handler(IMPORT_TOPIC, lease_seconds=settings.IMPORT_LEASE_SECONDS, queue="jobs")
def _import_run_message(payload: dict[str, Any], message: Message) -> None:
    issuer_id = issuer_of(ImportJob, payload["job_id"])
    try:
        if issuer_id is None:
            raise ImportJob.DoesNotExist
        with issuer_scope(issuer_id):  # the job's own issuer, as every task runs
            job = import_job_run(job_id=payload["job_id"], actor=payload["actor"], lease=message)
    except ImportJob.DoesNotExist:
        # Deleted with its issuer, or by retention: nothing is owed any more.
        log.warning("import %s: the job no longer exists", payload["job_id"])
        return
    if job.state in (ImportJob.State.QUEUED, ImportJob.State.RUNNING):
        # Another run took the job over (this one's lease ran out while it was still alive):
        # the message stays owed until the job is done, in case that run dies too.
        raise outbox.Retry(
            at=timezone.now() + timedelta(seconds=settings.IMPORT_LEASE_SECONDS),
            reason="another run of this import holds it",
        )


def import_job_run(*, job_id: int, actor: str, lease: Message | None = None) -> ImportJob:
    """Run a queued job, or resume a running one from its cursor.

    1. Claim: queued or running becomes running, one more run counted; a finished job is left
       as it is (a message handed out twice finds it done).
    2. Give up past MAX_RUNS runs, or when the file is no longer stored: ``failed``, a reason.
    3. Run batch by batch (``_Run``), renewing ``lease`` after each.
    4. Record the outcome and ``import.completed``, drop the file. A lost database (resumed by
       the outbox's retry) and another run that took over leave the job running; any other
       error ends it ``failed`` and is raised.
    """
    job = _claim(job_id)
    if job is None:
        return ImportJob.objects.defer("source").get(pk=job_id)
    if job.attempts > MAX_RUNS:
        return _give_up(
            job,
            f"The import was interrupted {MAX_RUNS} times before it could finish "
            f"({_written(job)}).",
        )
    blob = ImportJob.objects.filter(pk=job_id).values_list("source", flat=True).get()
    if blob is None:
        return _give_up(job, f"The uploaded file is no longer stored ({_written(job)}).")
    run = _Run.of(job, _stored_source(blob), actor, lease)
    try:
        run.run()
    except ImportFileError as exc:
        # Checked whole before it was queued, so the stored copy no longer reads as it did.
        run.report.error(0, None, str(exc), "invalid_file")
        run.report.failed = job.total - _written_rows(run.report)
        _finish(job, run.report, state=ImportJob.State.FAILED, reason=str(exc))
        return job
    except _Superseded:
        log.info("import %s: another run moved it on; this one stops", job_id)
        return job
    except (OperationalError, InterfaceError):
        raise  # the database went away: the outbox retries and the next run resumes
    except Exception as exc:
        _give_up(job, f"The import stopped on an unexpected error ({type(exc).__name__}).")
        raise
    _finish(job, run.report)
    return job


def _claim(job_id: int) -> ImportJob | None:
    unfinished = (ImportJob.State.QUEUED, ImportJob.State.RUNNING)
    claimed = ImportJob.objects.filter(pk=job_id, state__in=unfinished).update(
        state=ImportJob.State.RUNNING, attempts=F("attempts") + 1, updated_at=timezone.now()
    )
    if not claimed:
        return None
    return ImportJob.objects.defer("source").select_related("issuer").get(pk=job_id)


SEAL_COUNTS = ("seals_awarded", "seals_renewed", "seals_unchanged")


def _report_of(job: ImportJob) -> ImportReport:
    """The counts a job has recorded so far, to carry on from."""
    return ImportReport(
        total=job.total,
        processed=job.processed,
        created=job.created,
        updated=job.updated,
        unchanged=job.unchanged,
        failed=job.failed,
        errors=list(job.errors),
        error_count=job.error_count,
        seals_awarded=job.seals_awarded,
        seals_renewed=job.seals_renewed,
        seals_unchanged=job.seals_unchanged,
    )


def _written_rows(report: ImportReport) -> int:
    return report.created + report.updated + report.unchanged


def _written(job: ImportJob) -> str:
    done = job.created + job.updated + job.unchanged
    if not done or job.dry_run:
        return "nothing was written"
    return f"{done} of {job.total} rows were written before it stopped and are kept"


def _give_up(job: ImportJob, reason: str) -> ImportJob:
    job.refresh_from_db(
        fields=[
            *("processed", "created", "updated", "unchanged", "failed", "errors", "error_count"),
            *SEAL_COUNTS,
        ]
    )
    _finish(job, _report_of(job), state=ImportJob.State.FAILED, reason=reason)
    return job


def _final_state(job: ImportJob, report: ImportReport) -> str:
    if report.failed and job.mode == ImportJob.Mode.ALL_OR_NOTHING:
        return ImportJob.State.FAILED
    return ImportJob.State.SUCCEEDED


def _finish(
    job: ImportJob, report: ImportReport, *, state: str | None = None, reason: str = ""
) -> None:
    """Record the outcome and queue ``import.completed`` in one transaction (the webhook is an
    outbox row: it exists exactly when the finished job does). A job another run finished
    meanwhile is left alone."""
    job.state = state or _final_state(job, report)
    rejected = job.state == ImportJob.State.FAILED and job.phase == ImportJob.Phase.CHECK
    # Rejected before writing: it changes nothing. A dry run keeps its counts: they say what
    # the valid rows would do, next to the rows that would stop it.
    if rejected and not job.dry_run:
        report.created = report.updated = report.unchanged = 0
        report.seals_awarded = report.seals_renewed = report.seals_unchanged = 0
    job.total, job.processed, job.failed = report.total, report.processed, report.failed
    job.created, job.updated, job.unchanged = report.created, report.updated, report.unchanged
    for name in SEAL_COUNTS:
        setattr(job, name, getattr(report, name))
    job.errors, job.error_count, job.reason = report.errors, report.error_count, reason
    job.finished_at = timezone.now()
    fields: tuple[str, ...] = ("state", "total", "processed", "failed", "created", "updated")
    fields += ("unchanged", "errors", "error_count", "reason", "finished_at", *SEAL_COUNTS)
    if not job.dry_run:  # a dry run's file stays for import_confirm (see import_start)
        job.source = None
        fields += ("source",)
    with transaction.atomic():
        unfinished = (ImportJob.State.QUEUED, ImportJob.State.RUNNING)
        finished = ImportJob.objects.filter(pk=job.pk, state__in=unfinished).update(
            updated_at=job.finished_at, **{name: getattr(job, name) for name in fields}
        )
        if finished:
            _store_errors(job, report)
            _emit_completed(job)


def import_confirm(*, job: ImportJob, actor: str) -> tuple[ImportJob, ImportReport | None]:
    """Import for real the file a finished dry run checked, in the dry run's mode: a new job
    (as ``import_start``), and the dry run's copy of the file is dropped in the same
    transaction, so a file is confirmed once. Raises ConflictError when the job is not a
    finished dry run that still holds its file."""
    with transaction.atomic():
        locked = ImportJob.objects.select_for_update().filter(pk=job.pk)
        blob = locked.values_list("source", flat=True).first()
        finished = job.state in (ImportJob.State.SUCCEEDED, ImportJob.State.FAILED)
        if not job.dry_run or not finished or blob is None:
            raise ConflictError("Only a finished dry run whose file is still kept can be run.")
        locked.update(source=None, updated_at=timezone.now())
        with _stored_source(blob)() as stream:
            data = stream.read()
        return import_start(
            issuer=job.issuer, data=data, fmt=job.format, mode=job.mode, actor=actor
        )


def import_row_errors(*, job: ImportJob) -> QuerySet[ImportRowError]:
    """Every row error of ``job``, in the order the rows were checked."""
    return ImportRowError.objects.filter(job_id=job.pk).order_by("id")


def import_completed_data(job: ImportJob) -> dict[str, Any]:
    """The ``import.completed`` payload: counts only. Row errors stay in the job resource
    (``GET /api/v1/imports/<id>``) because their messages may quote personal data."""
    return {
        "import": job.pk,
        "state": job.state,
        "format": job.format,
        "mode": job.mode,
        "dry_run": job.dry_run,
        "counts": {
            "total": job.total,
            "created": job.created,
            "updated": job.updated,
            "unchanged": job.unchanged,
            "failed": job.failed,
        },
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
    }


def _emit_completed(job: ImportJob) -> None:
    # Dry runs emit too (``dry_run: true``): a large dry run is an asynchronous job, and this
    # event is how an integration learns that its check finished without polling.
    webhook_emit(
        issuer_id=job.issuer_id, event_type="import.completed", data=import_completed_data(job)
    )
