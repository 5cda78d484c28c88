"""A staff member's path in a real browser: sign in with e-mail and password, open a member,
suspend its seal through the confirmation page; the strict CSP holds on every page (nothing
blocked, nothing inline), and the session cookie is the console's only."""

from __future__ import annotations

import pytest

from issuers.models import StaffRole
from seals.models import Seal
from tests.browser.conftest import axe_violations, overflow, shot
from tests.console.conftest import make_staff
from tests.factories import MemberFactory, award

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_manager_signs_in_and_suspends_a_seal(public_server, chromium):
    member = MemberFactory(display_name="Acme Bakery", domains=["shop.example"])
    seal = award(member)
    staff = make_staff(member.issuer, "manager@a.example", StaffRole.MANAGER)
    # The page's own CSP, not bypassed: a blocked script or style would be reported here.
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    blocked: list[str] = []
    page.on(
        "console",
        lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.goto(f"{public_server.url}/console/")
    assert "/console/accounts/login/" in page.url
    page.fill("input[name=login]", "manager@a.example")
    page.fill("input[name=password]", "pw-manager@a.example")
    # The sign-in form's own button (the header also holds the language form).
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{public_server.url}/console/")
    assert page.locator("h1").inner_text() == "Dashboard"
    assert page.locator(".chart svg polyline").count() == 2
    shot(page, "console-dashboard")

    page.click("nav >> text=Members")
    page.click("text=Acme Bakery")
    page.click("text=Suspend")
    assert "Suspend seal" in page.locator("h1").inner_text()
    page.fill("textarea[name=reason]", "Complaint under review")
    shot(page, "console-suspend-confirm")
    page.click("button:has-text('Confirm')")
    page.wait_for_url(f"{public_server.url}/console/members/{member.pk}/")
    assert "Suspended" in page.locator("table").first.inner_text()

    fresh = Seal.objects.get(pk=seal.pk)
    assert fresh.status == "suspended"
    assert fresh.events.order_by("-seq").first().actor == f"staff:{staff.user.pk}"
    cookies = context.cookies()
    assert {c["name"] for c in cookies} == {"sessionid", "csrftoken"}
    assert all(c["path"] == "/console/" and c["httpOnly"] for c in cookies)
    assert blocked == []
    context.close()

    # Accessibility of the pages a manager works in, with axe injected (which needs the CSP
    # bypassed), at a phone's width and a desktop's.
    audit = chromium.new_context(bypass_csp=True, storage_state={"cookies": cookies})
    checked = audit.new_page()
    pages = [
        "/console/",
        "/console/members/",
        f"/console/members/{member.pk}/",
        f"/console/seals/{seal.public_id}/renew/",
        "/console/imports/",
        "/console/programmes/",
        "/console/data-requests/",
        "/console/audit/",
        "/console/staff/",
    ]
    problems = {}
    for path in pages:
        checked.goto(f"{public_server.url}{path}")
        for width in (375, 1280):
            checked.set_viewport_size({"width": width, "height": 800})
            if found := axe_violations(checked):
                problems[(path, width)] = found
            scroll, inner = overflow(checked)
            if scroll > inner:
                problems[(path, width)] = f"overflows: {scroll} > {inner}"
    assert problems == {}
    audit.close()
