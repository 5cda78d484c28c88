"""Suite-wide fixtures and the rule for service-backed tests.

A test marked ``postgres``, ``redis``, ``browser``, ``nginx`` or ``interop`` needs that service or
program. Where it is not available the test is skipped with the reason; with
TRUSTSEAL_REQUIRE_SERVICES=1 (CI) it fails instead, so CI can never look green by skipping.

Tenancy (config.tenancy): a test's own code (fixtures, factories, assertions) reads and writes
every issuer's rows with scopes disabled, as pretix's suite does. A request made through the test
client starts with no scope at all, as in production, so a view that forgot to open its scope
(or to disable it) fails in the test as it would for a visitor.
"""

from __future__ import annotations

import os
import shutil

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test.client import ClientHandler
from django_scopes import scopes_disabled
from django_scopes.state import state as scope_state

from tests.replication.engines import missing_engines

REQUIRE_SERVICES = os.environ.get("TRUSTSEAL_REQUIRE_SERVICES") == "1"
# Debian's Chromium, driven by Playwright (tests/browser); never a downloaded browser build.
CHROMIUM = os.environ.get("TRUSTSEAL_CHROMIUM", "/usr/bin/chromium")
# Debian's nginx, found as deploy/nginx/local.py finds it, run from a private prefix (tests/deploy).
HAS_NGINX = bool(shutil.which("nginx")) or os.path.exists("/usr/sbin/nginx")
# Node and npm run the field's verifiers (tests/interop), installed from a committed lock file.
HAS_NODE = bool(shutil.which("node")) and bool(shutil.which("npm"))
# The replication tests start their own PostgreSQL pair and Redis + Sentinels.
MISSING_ENGINES = missing_engines()


def _service_gate(item: pytest.Item, marker: str, available: bool, how: str) -> None:
    if item.get_closest_marker(marker) is None or available:
        return
    message = f"needs {marker}: {how}"
    if REQUIRE_SERVICES:
        pytest.fail(f"{message} (TRUSTSEAL_REQUIRE_SERVICES=1, so this is a failure)")
    pytest.skip(message)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item):
    _service_gate(
        item, "postgres", connection.vendor == "postgresql", "set DATABASE_URL=postgres://..."
    )
    _service_gate(item, "redis", bool(settings.REDIS_URL), "set REDIS_URL=redis://...")
    _service_gate(
        item, "browser", os.path.exists(CHROMIUM), f"apt-get install -y chromium ({CHROMIUM})"
    )
    _service_gate(item, "nginx", HAS_NGINX, "apt-get install -y nginx (/usr/sbin/nginx)")
    _service_gate(item, "interop", HAS_NODE, "apt-get install -y nodejs npm (node and npm)")
    _service_gate(item, "replication", not MISSING_ENGINES, MISSING_ENGINES)
    with scopes_disabled():  # fixtures
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    with scopes_disabled():
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None):
    with scopes_disabled():  # yield fixtures' clean-up
        return (yield)


@pytest.fixture(autouse=True, scope="session")
def _requests_start_unscoped():
    """Each test-client request runs with no scope, whatever the test's own."""
    handle = ClientHandler.__call__

    def unscoped(self, environ):
        token = scope_state.set({})
        try:
            return handle(self, environ)
        finally:
            scope_state.reset(token)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ClientHandler, "__call__", unscoped)
        yield


@pytest.fixture(autouse=True)
def _clear_cache():
    from seals import page_cache

    cache.clear()
    page_cache.clear()
    yield
    cache.clear()
    page_cache.clear()


@pytest.fixture
def one_rate_window():
    """Time held still at the start of the next rate-limit window (config.ratelimit counts per
    fixed minute), so a test's requests cannot straddle a boundary and see the count restart."""
    import time

    import time_machine

    from config.ratelimit import WINDOW_SECONDS

    start = (int(time.time()) // WINDOW_SECONDS + 1) * WINDOW_SECONDS + 1
    with time_machine.travel(start, tick=False):
        yield


@pytest.fixture
def issuer(db):
    from tests.factories import IssuerFactory

    return IssuerFactory()


@pytest.fixture
def other_issuer(db):
    from tests.factories import IssuerFactory

    return IssuerFactory()


@pytest.fixture
def fresh_stat_counters():
    """Public-view counters from zero: the per-process buffer and local totals are module
    state that outlives a test's database."""
    from seals import stats

    stats.discard_local()
    yield
    stats.discard_local()
