"""A member's export (``services.member_export``) as CSV: one file per table, in one ZIP.

The JSON document nests (seals hold their events, statistics hold three lists); a spreadsheet
wants flat tables. Each list becomes a file, each of its objects a row; a seal's events move to
``seal_events.csv`` with the seal's id as a column; a nested object becomes columns named
``<key>_<field>``; what is left nested (lists of domains, an event's data) is written as JSON
text in its cell. New sections of the export show up as new files with no change here.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from typing import Any

from config.spreadsheet import csv_cell


def _flat(row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, dict):
            for inner, inner_value in value.items():
                out[f"{key}_{inner}"] = inner_value
        else:
            out[key] = value
    return out


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return csv_cell(json.dumps(value, ensure_ascii=False, sort_keys=True))
    return csv_cell(value)


def _table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return ""  # nothing of that kind is held: an empty file, not a header of no columns
    flat = [_flat(row) for row in rows]
    columns: dict[str, None] = {}
    for row in flat:
        columns.update(dict.fromkeys(row))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(list(columns))
    for row in flat:
        writer.writerow([_cell(row.get(column)) for column in columns])
    return out.getvalue()


def export_tables(document: dict[str, Any]) -> dict[str, str]:
    """File name to CSV text, for every table of the export document."""
    about = {k: v for k, v in document.items() if not isinstance(v, dict | list)}
    tables: dict[str, list[dict[str, Any]]] = {
        "about.csv": [{**about, **_flat({"issuer": document.get("issuer", {})})}],
        "member.csv": [document["member"]],
    }
    for key, value in document.items():
        if key in ("issuer", "member") or not isinstance(value, dict | list):
            continue
        if isinstance(value, dict):  # a group of lists: statistics
            for inner, rows in value.items():
                tables[f"{key}_{inner}.csv"] = rows
        elif key == "seals":
            tables["seals.csv"] = [{k: v for k, v in s.items() if k != "events"} for s in value]
            tables["seal_events.csv"] = [
                {"seal": seal["id"], **event} for seal in value for event in seal["events"]
            ]
        else:
            tables[f"{key}.csv"] = value
    return {name: _table(rows) for name, rows in tables.items()}


def export_zip(document: dict[str, Any]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, text in export_tables(document).items():
            # A byte-order mark: spreadsheets then read the UTF-8 (accents, Arabic) as UTF-8.
            archive.writestr(name, "\ufeff" + text)
    return buffer.getvalue()
