"""The product, run against private engines: ``python -m tests.replication.app <command> ...``.

A separate process so Django's connections are the ones its environment names (the private
primary and replica), not the test run's. Each command prints one JSON line.

- ``setup``: an issuer, a member and an active seal, its status list published;
- ``revoke <seal>``: revoke it on the primary and re-publish the lists;
- ``answers <seal>``: every public answer about it, and how many queries each database ran.
"""

from __future__ import annotations

import json
import sys

import django


def main() -> None:
    django.setup()
    from django.db import connections
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from config.tenancy import scopes_disabled
    from seals.models import Seal
    from seals.services import seal_revoke
    from seals.status_lists import status_list_bit_published, status_lists_regenerate_dirty

    command, *args = sys.argv[1:]
    if command == "scenario":
        # The whole paused-replica scenario in one process: one Django start-up, not four.
        print(json.dumps(_scenario()))
        return
    with scopes_disabled():
        if command == "setup":
            from tests.factories import MemberFactory, award

            seal = award(MemberFactory(display_name="Replica Bakery", domains=["bakery.example"]))
            status_lists_regenerate_dirty()
            print(json.dumps({"seal": seal.public_id, "issuer": seal.issuer.slug}))
            return
        seal = Seal.objects.select_related("issuer").get(public_id=args[0])
        if command == "revoke":
            seal_revoke(seal=seal, reason="fraud", actor="replication test")
            status_lists_regenerate_dirty()
            print(json.dumps({"revoked": seal.public_id}))
            return
        if command == "answers":
            client = Client()
            slug, sid = seal.issuer.slug, seal.public_id
            replica = sys.argv[3] if len(sys.argv) > 3 else "replica_1"
            with CaptureQueriesContext(connections[replica]) as on_replica:
                document = client.get(f"/verify/{sid}.json").json()
                page = client.get(f"/verify/{sid}").content.decode()
                image = client.get(f"/s/{sid}.svg").content.decode()
                register = client.get(f"/issuers/{slug}/register?format=json").json()
                bit = status_list_bit_published(
                    seal.issuer, "revocation", seal.status_list, seal.status_list_index
                )
            print(
                json.dumps(
                    {
                        "json": document["status"],
                        "page_revoked": "Revoked" in page,
                        "image_revoked": ">Revoked<" in image,
                        "image_valid": ">Valid<" in image or ">Active<" in image,
                        "register": [s["status"] for r in register["results"] for s in r["seals"]],
                        "revocation_bit": bit,
                        "replica_queries": len(on_replica.captured_queries),
                    }
                )
            )
            return
    raise SystemExit(f"unknown command {command!r}")


def _answers(seal) -> dict:
    from django.db import connections
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from seals.status_lists import status_list_bit_published

    client = Client()
    slug, sid = seal.issuer.slug, seal.public_id
    with CaptureQueriesContext(connections["replica_1"]) as on_replica:
        document = client.get(f"/verify/{sid}.json").json()
        page = client.get(f"/verify/{sid}").content.decode()
        image = client.get(f"/s/{sid}.svg").content.decode()
        register = client.get(f"/issuers/{slug}/register?format=json").json()
        bit = status_list_bit_published(
            seal.issuer, "revocation", seal.status_list, seal.status_list_index
        )
    return {
        "json": document["status"],
        "page_revoked": "Revoked" in page,
        "image_revoked": ">Revoked<" in image,
        "image_valid": ">Valid<" in image,
        "register": [s["status"] for r in register["results"] for s in r["seals"]],
        "revocation_bit": bit,
        "replica_queries": len(on_replica.captured_queries),
    }


def _on_replica(query: str) -> list[tuple]:
    from django.db import connections

    with connections["replica_1"].cursor() as cursor:
        cursor.execute(query)
        return list(cursor.fetchall()) if cursor.description else []


def _scenario() -> dict:
    """setup → the replica catches up → answers → replay paused → revoke on the primary →
    the replica still says active → answers → replay resumed."""
    import time

    from config.tenancy import scopes_disabled
    from seals.models import Seal
    from seals.services import seal_revoke
    from seals.status_lists import status_lists_regenerate_dirty
    from tests.factories import MemberFactory, award

    out: dict = {}
    with scopes_disabled():
        seal = award(MemberFactory(display_name="Replica Bakery", domains=["bakery.example"]))
        status_lists_regenerate_dirty()
        seal = Seal.objects.select_related("issuer").get(pk=seal.pk)
        query = f"SELECT status FROM seals_seal WHERE public_id = '{seal.public_id}'"  # noqa: S608
        deadline = time.monotonic() + 20
        while _on_replica(query) != [("active",)] and time.monotonic() < deadline:
            time.sleep(0.05)
        out["before"] = _answers(seal)
        _on_replica("SELECT pg_wal_replay_pause()")
        try:
            seal_revoke(seal=seal, reason="fraud", actor="replication test")
            status_lists_regenerate_dirty()
            time.sleep(0.5)  # what the replica would have needed to catch up, and more
            out["replica_meanwhile"] = _on_replica(query)
            seal = Seal.objects.select_related("issuer").get(pk=seal.pk)
            out["after"] = _answers(seal)
        finally:
            _on_replica("SELECT pg_wal_replay_resume()")
    return out


if __name__ == "__main__":
    main()
