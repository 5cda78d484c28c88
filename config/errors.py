"""The one base class of the product's own errors.

A service raises a ``DomainError`` subclass when a business rule refuses what was asked (a taken
key, a seal in the wrong state, an erased member). Each class says how the API answers it, so
the mapping to problem+json is written once (config.problems) and no caller translates errors by
hand. Not a ``ValueError``: a stray one must never be mistaken for a field's bad value.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status_code = 400
    code = "bad_request"

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
