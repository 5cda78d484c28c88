"""Every console and portal page in one real browser: axe-core finds no violation (of any
impact), no page scrolls sideways at a phone's 375 px, and the main paths work by keyboard
alone (sign in with Tab and Enter; Tab through the members list to a bulk seal action).

One browser, one sign-in, one page reused: the pages come from the URL configuration
(tests/console/test_access.paths), so a new console page is checked here as soon as the access
test lists it. Pages that are not HTML (CSV, JSON, SVG) and POST-only actions are left out
(the portal's correction form is shown on its details page, which is checked).
"""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.urls import reverse

from issuers.identity import IdentityProviderInput, identity_provider_set
from issuers.models import ImportJob, WebhookEndpoint
from outbox import core as outbox
from seals.models import Seal
from tests.browser.conftest import AXE
from tests.console.conftest import world  # noqa: F401  (the fixture)
from tests.console.test_access import POST_ONLY, paths

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

NOT_HTML = {
    "console:member-export",
    "console:member-export-csv",
    "console:programme-preview",
    "console:stats-csv",
    "console:audit-csv",
    "console:import-errors-csv",
    # The HTML part of an announcement, framed on its page: a mail, which has no landmarks or
    # page heading to have. The page that frames it is checked.
    "console:announcement-preview",
}
PHONE = 375
LINK = re.compile(r"https?://\S+(/console/portal/link/[^/\s]+/)")


def violations(page) -> list[dict]:
    """Every axe-core violation on the page as it is now, whatever its impact."""
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.add_script_tag(content=AXE)
    result = page.evaluate("async () => await axe.run(document)")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:3]}
        for v in result["violations"]
    ]


def problems_of(page) -> list:
    """axe at a desktop width, then the page's width at a phone's."""
    found: list = violations(page)
    page.set_viewport_size({"width": PHONE, "height": 800})
    scroll = page.evaluate("document.documentElement.scrollWidth")
    if scroll > PHONE:
        found.append(f"scrolls sideways at {PHONE}px: {scroll}px wide")
    page.set_viewport_size({"width": 1280, "height": 900})
    return found


def tab_to(page, selector: str, *, limit: int = 80) -> None:
    """Press Tab until the focus is on ``selector``: reachable by keyboard, in a sane order."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} is not reachable with Tab on {page.url}")


def test_every_page_is_accessible_narrow_and_usable_by_keyboard(
    public_server,
    chromium,
    world,  # noqa: F811  (the fixture imported above)
):
    base = public_server.url
    # No deliveries to the fixture's endpoint when the outbox is drained for the portal's mail.
    WebhookEndpoint.objects.update(active=False)
    identity_provider_set(
        issuer=world.issuer,
        data=IdentityProviderInput("Acme SSO", "https://idp.a.example", "c", "s", True),
        actor="test",
    )
    ImportJob.objects.filter(pk=world.import_job.pk).update(
        state="failed",
        dry_run=True,
        failed=1,
        errors=[{"row": 2, "field": "domains", "message": "Not a host name.", "code": "invalid"}],
    )
    # bypass_csp: axe is injected as a script, which the console's CSP rightly forbids (the
    # CSP itself is checked, not bypassed, in test_console.py).
    context = chromium.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems: dict[str, list] = {}

    # Keyboard only: Tab to the sign-in fields, submit with Enter.
    page.goto(f"{base}/console/accounts/login/")
    if found := problems_of(page):
        problems["account_login"] = found
    tab_to(page, "input[name=login]")
    page.keyboard.type("owner@a.example")
    tab_to(page, "input[name=password]")
    page.keyboard.type("pw-owner@a.example")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/console/")

    # Keyboard only: Tab through the members list to a seal's box, tick it, choose the action,
    # review, give the reason and confirm.
    page.goto(f"{base}/console/members/")
    tab_to(page, f"input[name=seal][value='{world.seal.public_id}']")
    page.keyboard.press("Space")
    tab_to(page, "select[name=action]")
    page.select_option("select[name=action]", "suspend")  # a select's own keys vary by OS
    tab_to(page, "#bulk button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}{reverse('console:bulk-action')}")
    if found := problems_of(page):
        problems["console:bulk-action (review)"] = found
    tab_to(page, "textarea[name=reason]")
    page.keyboard.type("Checked by keyboard")
    tab_to(page, "button[name=confirm]")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/console/members/")
    assert Seal.objects.get(pk=world.seal.pk).status == "suspended"

    # Every console page an owner can open.
    pages = {
        name: path
        for name, path in paths(world).items()
        if name not in POST_ONLY and name not in NOT_HTML
    }
    for action in ("reinstate", "revoke", "renew"):
        pages[f"console:seal-action ({action})"] = reverse(
            "console:seal-action", args=[world.seal.public_id, action]
        )
    pages["console:sso-start"] = reverse("console:sso-start") + f"?organisation={world.issuer.slug}"
    pages["mfa_index"] = reverse("mfa_index")
    pages["account_email"] = reverse("account_email")
    for name, path in pages.items():
        response = page.goto(f"{base}{path}")
        assert response is not None and response.ok, (name, response and response.status)
        if found := problems_of(page):
            problems[name] = found

    # The portal, signed in through its own e-mailed link in the same browser.
    page.goto(f"{base}{reverse('portal:sign-in')}")
    if found := problems_of(page):
        problems["portal:sign-in"] = found
    page.fill("input[name=email]", world.member.contact_email)
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    outbox.drain()  # as the worker would: it mails the link
    link = LINK.search(mail.outbox[-1].body).group(1)
    page.goto(f"{base}{link}")
    if found := problems_of(page):
        problems["portal:link"] = found
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    portal = {
        "portal:home": reverse("portal:home"),
        "portal:choose": reverse("portal:choose"),
        "portal:seal": reverse("portal:seal", args=[world.seal.public_id]),
        "portal:details": reverse("portal:details"),
        "portal:preferences": reverse("portal:preferences"),
        "portal:data-requests": reverse("portal:data-requests"),
    }
    for name, path in portal.items():
        response = page.goto(f"{base}{path}")
        assert response is not None and response.ok, (name, response and response.status)
        if found := problems_of(page):
            problems[name] = found
    assert problems == {}
    context.close()
