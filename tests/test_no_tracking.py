"""No tracking on the public side: every route the URL configuration holds, walked from the
resolver (so a route added later is covered without touching this file), answers without a
cookie and, when it answers HTML, loads nothing from another host.

For each route: a request with real identifiers (a seal, an issuer, a key, an unsubscribe token
from the fixture), one with unknown identifiers (the error answers), and unauthenticated API
calls (401); every same-origin resource an HTML answer loads (the API docs' initialiser script)
is fetched and checked too. Only the console (with the Django admin and the member portal under
it) is left out: it is for signed-in people, and its session and CSRF cookies are scoped to its
path (tests/console and tests/portal check that); the portal's short address /portal/ is public.
A link (``<a href>``) may lead to another site (an issuer's website) but must not send a
Referer there (``rel="noreferrer"``); everything a page *loads* must be same-origin or inline.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from privacy.unsubscribe import unsubscribe_token
from seals.models import SigningKey
from seals.public_middleware import PUBLIC_PREFIXES, is_public
from tests.factories import MemberFactory, award

pytestmark = pytest.mark.django_db

EXCLUDED_PREFIXES = ("admin/", "console/")
# Routes that need an API key or a console sign-in; every other route is public and must sit
# under PUBLIC_PREFIXES.
AUTHENTICATED_PREFIXES = ("admin/", "api/v1/", "console/")
UNKNOWN = {
    "seal_id": "AAAAAAAAAAAAAAAAAAAAAA",
    "slug": "no-such-issuer",
    "key_id": "no-such-key",
    "purpose": "nonsense",
    "number": "999",
    "token": "forged:token",
    "pk": "999999",
}


def walk(patterns: list, prefix: str = "") -> list[tuple[str, re.Pattern]]:
    """(route text, compiled full regex) of every endpoint, recursively through includes."""
    found = []
    for pattern in patterns:
        regex = pattern.pattern.regex.pattern.lstrip("^").rstrip("$").removesuffix(r"\Z")
        if isinstance(pattern, URLResolver):
            found += walk(pattern.url_patterns, prefix + regex)
        elif isinstance(pattern, URLPattern):
            found.append((prefix + regex, re.compile("^" + prefix + regex + "$")))
    return found


def fill(route: str, values: dict[str, str]) -> str:
    """A concrete path for a route regex: named groups from ``values``, optional format
    suffixes dropped, escapes undone."""
    path = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: values.get(m.group(1), "1"), route)
    path = re.sub(r"\(\?:[^)]*\)\?", "", path)  # DRF's optional format suffix
    return "/" + path.replace("\\", "")


class _Urls(HTMLParser):
    LOADS = {"src", "srcset", "data", "poster", "action", "formaction", "background", "icon"}

    def __init__(self) -> None:
        super().__init__()
        self.loads: list[str] = []
        self.links: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {k: v or "" for k, v in attrs}
        for name, value in attributes.items():
            if name in self.LOADS:
                self.loads += [part.strip().split(" ")[0] for part in value.split(",")]
            if name == "style":
                self.loads += re.findall(r"url\(\s*['\"]?([^'\")]+)", value)
        if "href" in attributes:
            if tag == "a":
                self.links.append((attributes["href"], attributes.get("rel", "")))
            else:  # <link href>: stylesheets, icons, preloads are loaded
                self.loads.append(attributes["href"])

    def handle_data(self, data: str) -> None:
        self.loads += re.findall(r"url\(\s*['\"]?([^'\")]+)", data)  # inline <style>


def _foreign(url: str) -> bool:
    parts = urlsplit(url.strip())
    if parts.scheme in ("", "data") and not parts.netloc:
        return False
    own = {"testserver", urlsplit(settings.PUBLIC_BASE_URL).netloc}
    return parts.netloc not in own


def check_answer(path: str, response) -> list[str]:
    problems = []
    if response.cookies or response.has_header("Set-Cookie"):
        problems.append(f"{path}: sets a cookie {list(response.cookies)}")
    if "text/html" in response.get("Content-Type", "") and not response.streaming:
        parser = _Urls()
        parser.feed(response.content.decode("utf-8", "replace"))
        problems += [f"{path}: loads {u}" for u in parser.loads if _foreign(u)]
        problems += [
            f"{path}: links to {u} with a Referer"
            for u, rel in parser.links
            if _foreign(u) and "noreferrer" not in rel.split()
        ]
    return problems


@pytest.fixture
def known() -> dict[str, str]:
    member = MemberFactory()
    seal = award(member)
    key = SigningKey.objects.filter(issuer=member.issuer).first()
    return {
        "seal_id": seal.public_id,
        "slug": member.issuer.slug,
        "key_id": key.key_id if key else "none",
        "purpose": "revocation",
        "number": "0",
        "token": unsubscribe_token(member),
        "pk": str(member.pk),
    }


def test_the_walk_covers_the_public_routes():
    routes = {route for route, _ in walk(get_resolver().url_patterns)}
    for expected in (
        "privacy",
        "verify/",
        "s/",
        "issuers/",
        "embed/",
        "unsubscribe/",
        "check",
        "portal/",
    ):
        assert any(r.startswith(expected) for r in routes), expected


def test_the_checker_catches_a_tracker():
    class Fake:
        cookies = {"sessionid": "x"}
        streaming = False
        content = (
            b'<img src="https://tracker.example/p.gif"><a href="https://elsewhere.example">x</a>'
        )

        def get(self, name, default=""):
            return "text/html" if name == "Content-Type" else default

        def has_header(self, name):
            return False

    problems = check_answer("/x", Fake())
    assert len(problems) == 3


def test_every_public_route_gets_the_no_cookie_treatment():
    routes = [fill(route, UNKNOWN) for route, _ in walk(get_resolver().url_patterns)]
    public = [r for r in routes if not r.lstrip("/").startswith(AUTHENTICATED_PREFIXES)]
    assert {"/privacy", "/healthz", "/api/docs/", "/api/schema/"} <= set(public)
    assert [r for r in public if not is_public(r)] == []
    # No prefix without a route behind it (a renamed route would leave a stale entry).
    assert [p for p in PUBLIC_PREFIXES if not any(r.startswith(p) for r in public)] == []


def _with_loads(client, path: str, response) -> list[str]:
    """Check the answer and every same-origin resource its HTML loads (scripts, styles)."""
    problems = check_answer(path, response)
    if "text/html" in response.get("Content-Type", "") and not response.streaming:
        parser = _Urls()
        parser.feed(response.content.decode("utf-8", "replace"))
        for url in parser.loads:
            parts = urlsplit(url.strip())
            if parts.scheme == "data" or _foreign(url) or not url.strip():
                continue
            loaded = parts.path + (f"?{parts.query}" if parts.query else "")
            problems += check_answer(f"{path} -> {loaded}", client.get(loaded))
    return problems


def test_no_public_route_sets_a_cookie_or_loads_a_foreign_resource(known):
    # A crashing route (500) is still an answer to check; its bug is for its own tests.
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    problems: list[str] = []
    checked = 0
    for route, _ in walk(get_resolver().url_patterns):
        if route.startswith(EXCLUDED_PREFIXES):
            continue
        for values in (known, UNKNOWN):
            path = fill(route, values)
            for method in ("get", "post"):
                response = getattr(client, method)(path)
                problems += _with_loads(client, f"{method.upper()} {path}", response)
                checked += 1
    # Error answers on every public prefix, and elsewhere.
    for path in (
        "/no/such/page",
        "/verify/short",
        "/s/../../etc/passwd",
        "/embed/short",
        "/issuers/no-such-issuer/nothing",
        "/issuers/no-such-issuer/register",
        "/privacy/nothing",
        "/unsubscribe/",
        "/healthz/nothing",
        "/api/docs/nothing",
        "/api/schema/nothing",
        "/api/v1/nothing",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        problems += check_answer(path, response)
    # The RFC 8058 one-click POST exactly as a mail provider sends it.
    one_click = client.post(
        f"/unsubscribe/{known['token']}",
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert one_click.status_code == 200
    problems += check_answer("POST one-click unsubscribe", one_click)
    assert checked > 20
    assert problems == []


def test_the_api_docs_script_is_checked_and_sets_no_cookie():
    client = Client(enforce_csrf_checks=True)
    page = client.get("/api/docs/")
    parser = _Urls()
    parser.feed(page.content.decode())
    scripts = [u for u in parser.loads if "script=" in u]
    assert scripts, "the split view's initialiser URL moved: update _with_loads"
    script = client.get(scripts[0])
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert not script.cookies and not script.has_header("Set-Cookie")
    # The cause, not only the middleware's clean-up: no CSRF token was read to fill the header.
    assert re.search(r'headers\["[^"]+"\] = "";', script.content.decode())
