"""Fixtures of the effects tests that call the issuer API (``api``, ``other_api``)."""

from tests.api_support import api, other_api  # noqa: F401
