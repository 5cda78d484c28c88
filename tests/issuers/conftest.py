"""Fixtures of the issuer API tests (``api``, ``other_api``: clients with an API key)."""

from tests.api_support import api, other_api  # noqa: F401
