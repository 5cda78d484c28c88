"""Fixtures of the announcement tests that call the issuer API (``api``)."""

from tests.api_support import api  # noqa: F401
