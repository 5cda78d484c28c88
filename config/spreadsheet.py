"""CSV cells that a spreadsheet opens as text, whatever a member or an issuer wrote in them."""

from __future__ import annotations

# A cell a spreadsheet would run as a formula (OWASP "CSV injection") gets a leading quote.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text
