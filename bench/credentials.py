"""Credential costs: signing, verifying, and regenerating a full status list. Prints figures.

Run: TRUSTSEAL_VAR_DIR=/tmp/bench .venv/bin/python manage.py migrate -v0 &&
     TRUSTSEAL_VAR_DIR=/tmp/bench .venv/bin/python bench/credentials.py
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

import django

django.setup()

from django.core.cache import cache  # noqa: E402
from django.utils import timezone  # noqa: E402

from config.tenancy import scopes_disabled  # noqa: E402
from issuers.services import member_create, programme_default  # noqa: E402
from seals import data_integrity  # noqa: E402
from seals.credentials import (  # noqa: E402
    credential_build,
    credential_data_integrity,
    credential_jwt,
    credential_payload,
    jwt_sign,
)
from seals.keys import data_integrity_key, key_did_url, signing_key_private  # noqa: E402
from seals.models import Seal, StatusList  # noqa: E402
from seals.registry import issuer_create  # noqa: E402
from seals.services import seal_award  # noqa: E402
from seals.status_lists import status_list_regenerate  # noqa: E402
from seals.verification import verify_document, verify_jwt  # noqa: E402

# An operator's run, not a request: the whole script reads with tenant scopes disabled.
scopes_disabled().__enter__()


def timed(label: str, n: int, fn) -> None:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    per = (time.perf_counter() - start) / n * 1000
    print(f"{label:<48} {per:8.2f} ms")


slug = f"bench-{int(time.time())}"
issuer = issuer_create(slug=slug, name="Bench")
member = member_create(issuer=issuer, external_ref="B-1", legal_name="Bench Ltd")
seal = seal_award(member=member, programme=programme_default(issuer), actor="bench")
payload = credential_payload(seal)
timed("sign an ES256 credential (jwt_sign)", 200, lambda: jwt_sign(issuer=issuer, payload=payload))
token = credential_jwt(seal)
timed("credential_jwt, cached", 2000, lambda: credential_jwt(seal))
cache.clear()
verify_jwt(token)
timed("verify_jwt, warm caches (all 8 checks)", 200, lambda: verify_jwt(token))
# The Data Integrity form: RDF canonicalisation (PyLD) of the proof options and the document.
ed25519 = data_integrity_key(issuer)
document = credential_build(seal, data_integrity=True)
timed(
    "sign eddsa-rdfc-2022 (canonicalise + Ed25519)",
    20,
    lambda: data_integrity.sign(
        document,
        private_key=signing_key_private(ed25519),
        verification_method=key_did_url(ed25519),
        created=timezone.now(),
    ),
)
secured = credential_data_integrity(seal)
timed("credential_data_integrity, cached", 2000, lambda: credential_data_integrity(seal))
timed("verify_document, warm caches (all 8 checks)", 20, lambda: verify_document(secured))
# A list with 20,000 revoked seals, as bulk rows (the bits do not care how they got there).
Seal.objects.bulk_create(
    [
        Seal(
            issuer=issuer,
            member=member,
            programme=seal.programme,
            status="revoked",
            status_list=0,
            status_list_index=i,
            valid_from=timezone.now(),
        )
        for i in range(1, 20_001)
        if i != seal.status_list_index
    ],
    batch_size=2000,
)
revocation = StatusList.objects.get(issuer=issuer, purpose="revocation", number=0)


def regenerate() -> None:
    StatusList.objects.filter(pk=revocation.pk).update(version=revocation.version + 1000)
    status_list_regenerate(status_list=revocation)


timed("regenerate + sign a 131,072-bit list (20k set)", 5, regenerate)
