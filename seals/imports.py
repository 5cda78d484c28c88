"""Bulk import: upsert members (and their seals) by external reference from CSV or JSON.

CSV: UTF-8 (a BOM is tolerated), comma-separated, a header row with the columns of
``COLUMNS`` (``external_ref`` and ``legal_name`` required, any order, unknown columns refused).
JSON: a list of objects with the same keys. Rows are numbered from 1 (the first data row; in a
CSV that is line 2).

Each valid row creates the member or updates it (matched on ``external_ref``), then makes sure
it holds a live seal in ``programme`` (the default programme when blank): awarded when missing,
renewed when ``expires_at`` is given and differs.

Modes: ``all_or_nothing`` (default) writes nothing when any row fails; ``partial`` writes the
valid rows. ``dry_run`` checks everything and writes nothing. Files of more than
ASYNC_THRESHOLD rows run as a Celery job (``workers.import_run``) with an ImportJob as the
progress record.

Rows are checked by hand-written code rather than a serializer per row: 100,000 serializer
instances cost more than the whole rest of the import (bench/import.py).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from config.bulk import bulk_insert
from issuers.domains import normalise_domains
from issuers.encryption import blind_index
from issuers.events import webhook_emit
from issuers.models import ImportJob, Issuer, Member, Programme
from issuers.text import text_problem
from outbox import core as outbox

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
ERRORS_KEPT = 100
# Personal data (issue 6): an error on contact_name, contact_email or contact_phone names the
# field and the problem, never the value. Errors are stored in clear on the ImportJob and
# outlive the member's erasure (a rejected value is not the member's stored contact, so erasure
# cannot find it), so quoting one would keep it for good.
CHUNK = 2000
_DOMAIN_SPLIT = re.compile(r"[\s,;]+")
_COUNTRY = re.compile(r"^[A-Z]{2}$")


class ImportFileError(ValueError):
    """The file as a whole is unusable (encoding, headers, shape): nothing is read from it."""


@dataclass
class ImportReport:
    total: int = 0
    processed: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    written: bool = False

    def error(self, row: int, field_name: str | None, message: str, code: str = "invalid") -> None:
        if len(self.errors) < ERRORS_KEPT:
            self.errors.append({"row": row, "field": field_name, "message": message, "code": code})


@dataclass
class _Row:
    number: int
    values: dict[str, Any]
    programme: Programme
    valid_from: datetime | None
    expires_at: datetime | None


# --- parsing --------------------------------------------------------------------------------


def import_parse(*, data: bytes, fmt: str) -> list[dict[str, Any]]:
    """Rows as dicts of strings (CSV) or JSON values; raises ImportFileError."""
    if fmt == "csv":
        rows = _parse_csv(data)
    elif fmt == "json":
        rows = _parse_json(data)
    else:
        raise ImportFileError(f"Unknown format {fmt!r}; use csv or json.")
    if not rows:
        raise ImportFileError("The file has no data rows.")
    if len(rows) > MAX_ROWS:
        raise ImportFileError(f"The file has {len(rows)} rows; the limit is {MAX_ROWS}.")
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


def _parse_csv(data: bytes) -> list[dict[str, Any]]:
    try:
        text = data.decode("utf-8-sig")  # tolerates the BOM spreadsheet programs write
    except UnicodeDecodeError as exc:
        raise ImportFileError(
            f"The CSV is not UTF-8 (invalid byte at offset {exc.start}); export it as 'CSV UTF-8'."
        ) from exc
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise ImportFileError("The CSV is empty; it needs a header row.") from None
    columns = [h.strip().lower() for h in header]
    _check_columns(columns)
    if len(set(columns)) != len(columns):
        raise ImportFileError("A column appears twice in the header row.")
    rows = []
    try:
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue  # blank lines, common at the end of exported files
            row = dict(zip(columns, cells, strict=False))
            if len(cells) > len(columns):
                row["__extra__"] = cells[len(columns) :]
            rows.append(row)
    except csv.Error as exc:
        raise ImportFileError(f"The CSV is malformed at line {reader.line_num}: {exc}.") from exc
    return rows


def _parse_json(data: bytes) -> list[dict[str, Any]]:
    try:
        body = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ImportFileError(f"The JSON is malformed: {exc}.") from exc
    if isinstance(body, dict):
        body = body.get("rows")
    if not isinstance(body, list) or not all(isinstance(r, dict) for r in body):
        raise ImportFileError('The JSON must be a list of row objects (or {"rows": [...]}).')
    # Required keys are checked per row, so a row without one gets its own row error.
    _check_columns(sorted({k for row in body for k in row}), require=False)
    return body


# --- checking -------------------------------------------------------------------------------


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _moment(value: Any) -> datetime | None:
    """ISO 8601 date (midnight UTC) or date-time (naive means UTC)."""
    raw = _text(value)
    if not raw:
        return None
    moment = parse_datetime(raw)
    if moment is None:
        day = parse_date(raw)
        if day is None:
            raise ValueError(f"{raw!r} is not an ISO 8601 date or date-time (2027-01-31).")
        moment = datetime.combine(day, time.min)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


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


def _check_row(
    number: int,
    raw: dict[str, Any],
    programmes: dict[str, Programme],
    default: Programme,
    report: ImportReport,
) -> _Row | None:
    problems: list[tuple[str | None, str, str]] = []
    if raw.get("__extra__"):
        problems.append((None, "The row has more cells than the header has columns.", "invalid"))
    values: dict[str, Any] = {}
    for name in ("external_ref", "legal_name", "display_name", "contact_name", "contact_phone"):
        values[name] = _text(raw.get(name))
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
    if values["contact_email"]:
        try:
            validate_email(values["contact_email"])
        except ValidationError:
            problems.append(("contact_email", _email_problem(values["contact_email"]), "invalid"))
    given_country = _text(raw.get("country"))
    country = given_country.upper()
    if country and not _COUNTRY.match(country):
        problems.append(
            ("country", f"{given_country!r} is not an ISO 3166-1 alpha-2 code.", "invalid")
        )
    values["country"] = country
    domains_raw = raw.get("domains")
    if isinstance(domains_raw, list):
        domain_list = [_text(d) for d in domains_raw if _text(d)]
    else:
        domain_list = [d for d in _DOMAIN_SPLIT.split(_text(domains_raw)) if d]
    try:
        values["domains"] = normalise_domains(domain_list)
    except ValidationError as exc:
        problems.append(("domains", exc.messages[0], "invalid"))
    slug = _text(raw.get("programme"))
    programme = programmes.get(slug) if slug else default
    if programme is None:
        problems.append(("programme", f"No programme with slug {slug!r}.", "does_not_exist"))
    valid_from = expires_at = None
    for name in ("valid_from", "expires_at"):
        try:
            moment = _moment(raw.get(name))
        except ValueError as exc:
            problems.append((name, str(exc), "invalid"))
            continue
        if name == "valid_from":
            valid_from = moment
        else:
            expires_at = moment
    if expires_at and expires_at <= (valid_from or timezone.now()):
        problems.append(("expires_at", "Must be after valid_from (and in the future).", "invalid"))
    if problems:
        report.failed += 1
        for field_name, message, code in problems:
            report.error(number, field_name, message, code)
        return None
    return _Row(number, values, programme, valid_from, expires_at)  # type: ignore[arg-type]


# --- running --------------------------------------------------------------------------------


def import_rows(
    *,
    issuer: Issuer,
    rows: list[dict[str, Any]],
    mode: str = ImportJob.Mode.ALL_OR_NOTHING,
    dry_run: bool = False,
    actor: str,
    progress: Callable[[ImportReport], None] | None = None,
) -> ImportReport:
    """Check every row, then (unless dry run or, in all-or-nothing mode, any row failed) write
    the valid ones in one transaction. ``progress`` is called after each checked chunk."""
    report = ImportReport(total=len(rows))
    programmes = {p.slug: p for p in Programme.objects.filter(issuer=issuer)}
    default = next(p for p in programmes.values() if p.is_default)
    seen: dict[str, int] = {}
    checked: list[_Row] = []
    for index, raw in enumerate(rows, start=1):
        row = _check_row(index, raw, programmes, default, report)
        if row is not None:
            ref = row.values["external_ref"]
            if ref in seen:
                report.failed += 1
                report.error(
                    index, "external_ref", f"Duplicate of row {seen[ref]} in this file.", "unique"
                )
            else:
                seen[ref] = index
                checked.append(row)
        report.processed = index
        if progress is not None and index % CHUNK == 0:
            progress(report)
    checked = _refuse_erased(issuer, checked, report)
    if report.failed and mode == ImportJob.Mode.ALL_OR_NOTHING:
        return report
    _plan_or_write(issuer=issuer, rows=checked, report=report, dry_run=dry_run, actor=actor)
    return report


def _refuse_erased(issuer: Issuer, rows: list[_Row], report: ImportReport) -> list[_Row]:
    """An erased member's record never changes again (as through the API): a row naming one is
    an error, or the import would bring back what was destroyed."""
    erased = set(
        Member.objects.filter(issuer=issuer, erased_at__isnull=False).values_list(
            "external_ref", flat=True
        )
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


def _existing_members(issuer: Issuer, refs: list[str]) -> dict[str, Member]:
    found: dict[str, Member] = {}
    for start in range(0, len(refs), 5000):
        batch = refs[start : start + 5000]
        for member in Member.objects.filter(issuer=issuer, external_ref__in=batch):
            found[member.external_ref] = member
    return found


def _plan_or_write(
    *, issuer: Issuer, rows: list[_Row], report: ImportReport, dry_run: bool, actor: str
) -> None:
    existing = _existing_members(issuer, [r.values["external_ref"] for r in rows])
    new_members: list[Member] = []
    changed_members: dict[str, list[str]] = {}
    for row in rows:
        member = existing.get(row.values["external_ref"])
        if member is None:
            report.created += 1
            if not dry_run:
                member = Member(issuer=issuer, **row.values)
                member.contact_email_hash = blind_index(member.contact_email)
                new_members.append(member)
                existing[member.external_ref] = member
            continue
        changed = [f for f in Member.PROFILE_FIELDS if getattr(member, f) != row.values[f]]
        if changed:
            report.updated += 1
            changed_members[member.external_ref] = changed
            for name in changed:
                setattr(member, name, row.values[name])
            if "contact_email" in changed:
                member.contact_email_hash = blind_index(member.contact_email)
        else:
            report.unchanged += 1
    if dry_run:
        return
    with transaction.atomic():
        _write(issuer, rows, existing, new_members, changed_members, actor)
    report.written = True


def _write(
    issuer: Issuer,
    rows: list[_Row],
    members: dict[str, Member],
    new_members: list[Member],
    changed_members: dict[str, list[str]],
    actor: str,
) -> None:
    from seals import snapshot
    from seals.chain import record_events
    from seals.models import Seal, SealEvent, SealStatus
    from seals.services import seal_award_many, seal_renew

    now = timezone.now()
    bulk_insert(Member, new_members)
    if changed_members:
        updated = [members[ref] for ref in changed_members]
        fields = sorted({f for names in changed_members.values() for f in names})
        if "contact_email" in fields:
            fields.append("contact_email_hash")
        for member in updated:
            member.updated_at = now
        Member.objects.bulk_update(updated, [*fields, "updated_at"], batch_size=CHUNK)
    # Live seals of the members in the file, one query per chunk.
    live: dict[tuple[int, int], Seal] = {}
    member_ids = [members[r.values["external_ref"]].pk for r in rows]
    for start in range(0, len(member_ids), 5000):
        for seal in Seal.objects.filter(member_id__in=member_ids[start : start + 5000]).exclude(
            status__in=[SealStatus.REVOKED, SealStatus.EXPIRED]
        ):
            if seal.expires_at is None or seal.expires_at > now:
                live[(seal.member_id, seal.programme_id)] = seal
    awards = []
    for row in rows:
        member = members[row.values["external_ref"]]
        seal = live.get((member.pk, row.programme.pk))
        if seal is None:
            valid_from = row.valid_from or now
            expires_at = row.expires_at or valid_from + timedelta(days=row.programme.validity_days)
            awards.append((member, row.programme, valid_from, expires_at))
        elif row.expires_at and row.expires_at != seal.expires_at:
            seal_renew(seal=seal, expires_at=row.expires_at, reason="import", actor=actor)
    seal_award_many(awards=awards, actor=actor)
    public_changes = {
        members[ref].pk: [f for f in names if f in Member.PUBLIC_FIELDS]
        for ref, names in changed_members.items()
    }
    public_changes = {pk: names for pk, names in public_changes.items() if names}
    if public_changes:
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


# --- jobs -----------------------------------------------------------------------------------


def _report_fields(job: ImportJob, report: ImportReport) -> None:
    job.total = report.total
    job.processed = report.processed
    job.created = report.created
    job.updated = report.updated
    job.failed = report.failed
    job.errors = report.errors


def import_start(
    *,
    issuer: Issuer,
    data: bytes,
    fmt: str,
    mode: str = ImportJob.Mode.ALL_OR_NOTHING,
    dry_run: bool = False,
    actor: str,
) -> tuple[ImportJob, ImportReport | None]:
    """Parse, then run at once (up to ASYNC_THRESHOLD rows: the report is returned) or queue a
    job (the report is None; follow the job). Raises ImportFileError."""
    rows = import_parse(data=data, fmt=fmt)
    job = ImportJob(issuer=issuer, format=fmt, mode=mode, dry_run=dry_run, total=len(rows))
    if len(rows) > ASYNC_THRESHOLD:
        job.source = data  # personal data: cleared as soon as the job has run
        job.save()
        outbox.put("import.run", {"job_id": job.pk, "actor": actor})
        return job, None
    report = import_rows(issuer=issuer, rows=rows, mode=mode, dry_run=dry_run, actor=actor)
    _finish(job, report)
    return job, report


def import_job_run(*, job_id: int, actor: str) -> ImportJob:
    """Run a queued job once: claim it with a conditional update (a re-delivered message finds
    it taken and stops), check and write, record the outcome, drop the source."""
    claimed = ImportJob.objects.filter(pk=job_id, state=ImportJob.State.QUEUED).update(
        state=ImportJob.State.RUNNING, updated_at=timezone.now()
    )
    job = ImportJob.objects.select_related("issuer").get(pk=job_id)
    if not claimed:
        return job

    def progress(report: ImportReport) -> None:
        ImportJob.objects.filter(pk=job_id).update(
            processed=report.processed, failed=report.failed, errors=report.errors
        )

    try:
        rows = import_parse(data=bytes(job.source), fmt=job.format)
        report = import_rows(
            issuer=job.issuer,
            rows=rows,
            mode=job.mode,
            dry_run=job.dry_run,
            actor=actor,
            progress=progress,
        )
    except ImportFileError as exc:
        report = ImportReport(total=job.total, failed=job.total)
        report.error(0, None, str(exc), "invalid_file")
    except Exception:
        # Not retried: a half-understood file is not worth a second attempt; the job says so.
        with transaction.atomic():
            ImportJob.objects.filter(pk=job_id).update(
                state=ImportJob.State.FAILED, source=None, finished_at=timezone.now()
            )
            job.refresh_from_db()
            _emit_completed(job, unchanged=0)
        raise
    job.source = None
    _finish(job, report)
    return job


def _final_state(mode: str, report: ImportReport) -> str:
    if report.failed and mode == ImportJob.Mode.ALL_OR_NOTHING:
        return ImportJob.State.FAILED
    return ImportJob.State.SUCCEEDED


def _finish(job: ImportJob, report: ImportReport) -> None:
    """Record the outcome and queue ``import.completed`` in one transaction (the webhook is an
    outbox row: it exists exactly when the finished job does)."""
    _report_fields(job, report)
    job.state = _final_state(job.mode, report)
    job.finished_at = timezone.now()
    with transaction.atomic():
        job.save()
        _emit_completed(job, unchanged=report.unchanged)


def import_completed_data(job: ImportJob, *, unchanged: int) -> dict[str, Any]:
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
            "unchanged": unchanged,
            "failed": job.failed,
        },
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
    }


def _emit_completed(job: ImportJob, *, unchanged: int) -> None:
    # Dry runs emit too (``dry_run: true``): a large dry run is an asynchronous job, and this
    # event is how an integration learns that its check finished without polling.
    webhook_emit(
        issuer_id=job.issuer_id,
        event_type="import.completed",
        data=import_completed_data(job, unchanged=unchanged),
    )
