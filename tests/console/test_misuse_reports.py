"""The console's list of misuse reports: every role reads its own issuer's, never another's."""

from __future__ import annotations

import pytest

from seals.misuse import misuse_report_create
from tests.console.conftest import signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def reports(world):
    ours = misuse_report_create(
        seal=world.seal,
        site_url="https://copycat.example/about",
        site_host="copycat.example",
        message="Shown on a shop that is not a member",
        reporter_email="visitor@example.org",
    )
    theirs = misuse_report_create(
        seal=world.other_seal,
        site_url="https://elsewhere.example/",
        site_host="elsewhere.example",
        message="Another issuer's report",
    )
    return ours, theirs


@pytest.mark.parametrize("role", ["viewer", "manager", "owner"])
def test_every_role_reads_its_issuers_reports(world, reports, role):
    response = signed_in(getattr(world, role)).get("/console/misuse-reports/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "copycat.example" in html and "visitor@example.org" in html
    assert world.member.display_name in html
    assert "elsewhere.example" not in html and "Another issuer" not in html


def test_the_nav_links_the_list(world):
    html = signed_in(world.viewer).get("/console/").content.decode()
    assert 'href="/console/misuse-reports/"' in html


def test_the_list_is_refused_to_the_signed_out(client):
    response = client.get("/console/misuse-reports/")
    assert response.status_code == 302 and "/login" in response["Location"]


def test_a_bad_page_link_says_so(world, reports):
    response = signed_in(world.viewer).get("/console/misuse-reports/?cursor=%%%")
    assert response.status_code == 400
    assert "copycat.example" in response.content.decode()  # the first page, with the error
