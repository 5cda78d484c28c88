"""Announcement delivery benchmark: plan and send one announcement to N members.

    .venv/bin/python bench/announcements.py [--members N]
    DATABASE_URL=postgres://... .venv/bin/python bench/announcements.py   # <name>_bench

Builds a scratch database (SQLite in a temporary directory by default; with a PostgreSQL
DATABASE_URL, ``<name>_bench``, created and dropped here), N members (one in ten opted out),
then times the plan (one Recipient row per member, one transaction) and the send (batches of
50, Django's in-memory mail backend, so the figure is our cost per mail, not an SMTP server's).
Prints members, rows, seconds and mails per second.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=2000)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    scratch = ""
    if url.startswith("postgres"):
        scratch = url.rsplit("/", 1)[1] + "_bench"
        os.environ["DATABASE_URL"] = url.rsplit("/", 1)[0] + "/" + scratch
    else:
        os.environ["DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"

    import django

    django.setup()
    from django.conf import settings
    from django.core import mail
    from django.core.management import call_command
    from django.utils import timezone

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    if scratch:
        from common import admin

        admin(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
        admin(f'CREATE DATABASE "{scratch}"')
    call_command("migrate", verbosity=0)

    from announcements.models import Recipient
    from announcements.services import announcement_create, announcement_plan, announcement_run
    from config.tenancy import issuer_scope
    from issuers.encryption import blind_index
    from issuers.models import Member
    from seals.registry import issuer_create

    mail.outbox = []
    issuer = issuer_create(slug="bench", name="Bench Association", public_email="o@bench.example")
    Member.objects.bulk_create(
        [
            Member(
                issuer=issuer,
                external_ref=f"M{i:07d}",
                legal_name=f"Member {i} Ltd",
                display_name=f"Member {i}",
                contact_email=f"c{i}@bench.example",
                contact_email_hash=blind_index(f"c{i}@bench.example"),
                marketing_opt_out=i % 10 == 0,
            )
            for i in range(args.members)
        ],
        batch_size=1000,
    )
    with issuer_scope(issuer):
        announcement = announcement_create(
            issuer=issuer, subject="News", body="Hello.\n\nAgain.", programme=None, actor="bench"
        )
        announcement.status = "sending"
        announcement.save(update_fields=["status"])
        start = time.perf_counter()
        announcement_plan(announcement_id=announcement.pk, now=timezone.now())
        planned = time.perf_counter() - start
        start = time.perf_counter()
        announcement_run(announcement_id=announcement.pk)
        sent = time.perf_counter() - start
        rows = Recipient.objects.filter(announcement=announcement).count()
    n = len(mail.outbox)
    print(f"engine          {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[1]}")
    print(f"members         {args.members}  (recipient rows {rows}, mails {n})")
    print(f"plan            {planned:.2f} s  ({args.members / planned:,.0f} members/s)")
    print(f"send            {sent:.2f} s  ({n / sent:,.0f} mails/s, {1000 * sent / n:.1f} ms each)")


if __name__ == "__main__":
    main()
