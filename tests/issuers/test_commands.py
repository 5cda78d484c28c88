from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from demo.management.commands.demo import DEMO_MEMBERS, DEMO_SLUG
from issuers.models import ApiKey, Issuer
from issuers.services import apikey_authenticate
from seals.chain import verify_chain
from seals.models import Seal
from seals.status import effective_status


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_demo_covers_every_status_and_is_idempotent(db, settings, tmp_path):
    from django.utils import timezone

    settings.VAR_DIR = tmp_path  # the demo writes its webhook secret there

    first = run("demo")
    key = first.split("store it now): ", 1)[1].split()[0]
    assert apikey_authenticate(key).issuer.slug == DEMO_SLUG
    second = run("demo")
    assert "shown when it was created" in second
    assert Issuer.objects.count() == 1 and ApiKey.objects.count() == 1
    assert Seal.objects.count() == len(DEMO_MEMBERS) + 1  # and the two-minute seal
    now = timezone.now()
    assert {effective_status(s, now) for s in Seal.objects.all()} == {
        "active",
        "expired",
        "suspended",
        "revoked",
    }
    for seal in Seal.objects.all():
        assert f"/s/{seal.public_id}.svg" in second
        assert f"/verify/{seal.public_id}" in second
        assert '<img src="http' in second
    assert verify_chain(Issuer.objects.get()).ok


def test_createissuer_and_createapikey_print_the_key_once(db):
    out = run("createissuer", "acme", "Acme Association")
    key = out.split("store it now): ", 1)[1].strip()
    assert apikey_authenticate(key).issuer.slug == "acme"
    out = run("createapikey", "acme", "--name", "ro", "--scope", "read")
    key = out.rsplit(": ", 1)[1].strip()
    assert apikey_authenticate(key).scopes == ["read"]
    with pytest.raises(CommandError, match="exists already"):
        run("createissuer", "acme", "Again")
    with pytest.raises(CommandError, match="No issuer"):
        run("createapikey", "nobody")
