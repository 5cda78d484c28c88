"""The verifier is a package of its own (verifier/), not installed in the suite's environment:
its source goes on the path here. Most tests run it in-process against the Django test client,
through the same fetch hook it uses for HTTP; one installs it and runs its console script."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from django.conf import settings

SRC = Path(__file__).resolve().parents[2] / "verifier" / "src"
if str(SRC) not in sys.path:
    sys.path.insert(0, str(SRC))

from trustseal_verify.fetch import NotFound, Unreachable  # noqa: E402


@pytest.fixture
def fetch(client):
    """A fetcher that asks the app through the test client, as the network would."""
    seen: list[str] = []

    def get(url: str) -> bytes:
        seen.append(url)
        if not url.startswith(settings.PUBLIC_BASE_URL + "/"):
            raise Unreachable(f"{url}: not this server")
        response = client.get(url[len(settings.PUBLIC_BASE_URL) :])
        if response.status_code in (404, 410):
            raise NotFound(url, response.status_code)
        if response.status_code != 200:
            raise Unreachable(f"{url} answered {response.status_code}")
        return response.content

    get.seen = seen  # type: ignore[attr-defined]
    return get
