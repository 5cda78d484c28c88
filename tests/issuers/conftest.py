"""Fixtures of the issuer API tests (``api``, ``other_api``: clients with an API key)."""

from tests.issuers.api_support import api, other_api  # noqa: F401
