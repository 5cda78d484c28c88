"""Fixtures of the worker tests: issuer API clients; a run directory for real processes."""

from tests.api_support import api, other_api  # noqa: F401
from tests.workers.harness import run_dir  # noqa: F401
