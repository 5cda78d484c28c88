"""Members' countries: ISO 3166-1 alpha-2 codes, as the docs and the credentials promise.

The list of assigned codes comes from ``pycountry`` (the ISO 3166 data, kept current with the
standard's changes) rather than a two-letter pattern, which let ``XX``, ``ZZ`` (user-assigned)
and ``UK`` (reserved; the United Kingdom is ``GB``) through.
"""

from __future__ import annotations

import pycountry

from config.errors import InvalidInputError

# Codes people write for a country whose ISO code differs: named in the error, never accepted.
_USUAL_MISTAKES = {"UK": "GB", "EL": "GR"}


def usual_mistake(value: str) -> str | None:
    """The code of the country meant by ``value`` when it is a code people write for it that is
    not its ISO code (``UK`` for ``GB``), else None."""
    return _USUAL_MISTAKES.get(value.strip().upper())


def country_problem(value: str) -> str | None:
    """Why ``value`` is not an assigned ISO 3166-1 alpha-2 code, or None when it is one (or
    empty: the country is optional)."""
    code = value.strip().upper()
    if not code or (len(code) == 2 and pycountry.countries.get(alpha_2=code) is not None):
        return None
    message = f"{value!r} is not an ISO 3166-1 alpha-2 country code"
    if right := usual_mistake(code):
        return f"{message}; the code of that country is {right}."
    return f"{message} (two letters, such as GB, DE or FR)."


def country_code(value: str) -> str:
    """``value`` as its upper-case ISO 3166-1 alpha-2 code ("" for none); raises
    ``InvalidInputError`` on the ``country`` field for anything else."""
    problem = country_problem(value)
    if problem is not None:
        raise InvalidInputError("country", problem)
    return value.strip().upper()
