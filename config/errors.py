"""The one base class of the product's own errors.

A service raises a ``DomainError`` subclass when a business rule refuses what was asked (a taken
key, a seal in the wrong state, an erased member, a date the rules do not allow). Each class says
how the API answers it, so the mapping to problem+json is written once (config.problems) and no
caller translates errors by hand:

- ``status_code`` and ``code``: the problem's status and ``code``;
- ``field``: set when the error is about one value of the request; the answer is then a 400
  ``validation_error`` with one entry for that field in ``errors``, as if a serializer had
  refused it (``None`` with ``code = "validation_error"``: about the request as a whole);
- ``extra``: more members of the problem body.

Not a ``ValueError``: a stray one from a bug must be a 500 that is logged, never mistaken for a
field's bad value.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status_code: int = 400
    code: str = "bad_request"
    field: str | None = None

    @property
    def detail(self) -> str:
        return str(self)

    @property
    def extra(self) -> dict[str, Any]:
        """More members of the problem+json body."""
        return {}


class ConflictError(DomainError):
    """The request conflicts with the current state (API: 409)."""

    status_code = 409
    code = "conflict"


class InvalidInputError(DomainError):
    """A value the request's shape allows but a rule refuses (API: 400 ``validation_error``,
    listed under ``field`` in ``errors``; ``field=None``: about the whole request)."""

    code = "validation_error"

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field
