"""Verification bundle costs: building /verify/<id>/bundle.json for a seal in a log of 10,000
leaves, and trustseal-verify checking it offline. Prints figures.

Run: TRUSTSEAL_VAR_DIR=/tmp/bench-bundle .venv/bin/python manage.py migrate -v0 &&
     TRUSTSEAL_VAR_DIR=/tmp/bench-bundle .venv/bin/python bench/bundle.py
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "verifier" / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

import django  # noqa: E402

django.setup()

from django.utils import timezone  # noqa: E402

from config.tenancy import scopes_disabled  # noqa: E402
from issuers.services import member_create, programme_default  # noqa: E402
from seals.chain import record_events  # noqa: E402
from seals.models import SealEvent  # noqa: E402
from seals.registry import issuer_create  # noqa: E402
from seals.services import seal_award  # noqa: E402
from transparency.bundle import verification_bundle  # noqa: E402
from transparency.services import log_catch_up  # noqa: E402
from trustseal_verify.cli import main  # noqa: E402

_UNSCOPED = scopes_disabled()  # an operator's run, not a request: kept, so it stays entered
_UNSCOPED.__enter__()


def timed(label: str, n: int, fn) -> None:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    per = (time.perf_counter() - start) / n * 1000
    print(f"{label:<56} {per:8.2f} ms")


issuer = issuer_create(slug=f"bench-{int(time.time())}", name="Bench")
member = member_create(issuer=issuer, external_ref="B-1", legal_name="Bench Ltd")
seal = seal_award(member=member, programme=programme_default(issuer), actor="bench")
other = seal_award(
    member=member_create(issuer=issuer, external_ref="B-2", legal_name="Other Ltd"),
    programme=programme_default(issuer),
    actor="bench",
)
entries = [(other, SealEvent.Kind.DETAILS_CHANGED, {"fields": ["name"]})] * 9_990
record_events(issuer_id=issuer.pk, entries=entries, actor="bench", at=timezone.now())
record_events(
    issuer_id=issuer.pk,
    entries=[(seal, SealEvent.Kind.DETAILS_CHANGED, {"fields": ["name"]})] * 8,
    actor="bench",
    at=timezone.now(),
)
log_catch_up(issuer_id=issuer.pk)

bundle = verification_bundle(seal.public_id, now=timezone.now()).document
print(
    f"log size {json.loads(json.dumps(bundle))['log']['leaves'][-1]['leaf_index'] + 1} leaves, "
    f"{len(bundle['log']['leaves'])} of them the seal's; bundle {len(json.dumps(bundle))} bytes"
)
timed(
    f"verification_bundle ({len(bundle['log']['leaves'])} leaves + proofs)",
    50,
    lambda: verification_bundle(seal.public_id, now=timezone.now()),
)
with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
    json.dump(bundle, handle)
with open(os.devnull, "w") as sink:
    stdout, sys.stdout = sys.stdout, sink
    start = time.perf_counter()
    try:
        for _ in range(50):
            main([handle.name, "--offline"])
    finally:
        sys.stdout = stdout
per = (time.perf_counter() - start) / 50 * 1000
print(f"{'trustseal-verify --offline (in process)':<56} {per:8.2f} ms")
if os.environ.get("BENCH_PROFILE"):
    import cProfile

    cProfile.run("verification_bundle(seal.public_id, now=timezone.now())", sort="cumtime")
