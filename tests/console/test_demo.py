"""`manage.py demo` seeds a console owner and says, on lines of their own, where the console is
and how to sign in; the password is made once into var/ and works."""

from __future__ import annotations

import re
import stat
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from demo.management.commands.demo import OWNER_PASSWORD_FILE
from issuers.models import StaffMember, StaffRole

pytestmark = pytest.mark.django_db


def demo() -> str:
    out = StringIO()
    call_command("demo", "--sink-port", "8123", stdout=out)
    return out.getvalue()


def test_the_demo_prints_the_console_and_a_sign_in_that_works(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:8010"
    first = demo()
    lines = first.splitlines()
    assert "Console: http://127.0.0.1:8010/console/" in lines
    sign_in = [line for line in lines if line.startswith("Sign in as ")]
    assert len(sign_in) == 1
    email, password = re.fullmatch(r"Sign in as (\S+) / (\S+)", sign_in[0]).groups()
    secret = tmp_path / OWNER_PASSWORD_FILE
    assert secret.read_text() == password
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    staff = StaffMember.objects.get(user__email=email)
    assert staff.role == StaffRole.OWNER and staff.issuer.slug == "demo-guild"

    client = Client()
    response = client.post("/console/accounts/login/", {"login": email, "password": password})
    assert response.status_code == 302 and response["Location"] == "/console/"
    assert client.get("/console/members/").status_code == 200

    again = demo()  # a second run: the same owner, the same password
    assert sign_in[0] in again.splitlines()
    assert StaffMember.objects.count() == 1


def test_the_demo_prints_its_public_register_and_it_lists_the_demo_members(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:8010"

    lines = demo().splitlines()

    [register] = [line for line in lines if line.startswith("Register: ")]
    url = register.removeprefix("Register: ")
    assert url == "http://127.0.0.1:8010/issuers/demo-guild/register"
    page = Client().get(url.removeprefix(settings.PUBLIC_BASE_URL) + "?format=json")
    assert page.status_code == 200
    assert page.json()["results"], "the demo's members are listed"
