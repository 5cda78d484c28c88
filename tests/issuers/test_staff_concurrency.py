"""Two owners stepping down at once on PostgreSQL: one does, the other is refused (the issuer
keeps an owner), and neither deadlocks. Real threads, each with its own connection."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db import connections

from config.tenancy import issuer_scope
from issuers.models import StaffMember, StaffRole
from issuers.staff import LastOwnerError, staff_change_role, staff_remove, staff_user_create
from tests.factories import IssuerFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def race(*calls) -> Counter:
    barrier = threading.Barrier(len(calls))
    outcomes: list[str] = []

    def run(call) -> None:
        try:
            barrier.wait()
            call()
            outcomes.append("ok")
        except LastOwnerError:
            outcomes.append("last_owner")
        except BaseException as exc:
            outcomes.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Counter(outcomes)


@pytest.mark.parametrize("how", ["demote", "remove"])
def test_two_owners_leaving_at_once_leave_one_owner(how):
    for _ in range(3):
        issuer = IssuerFactory()
        a = staff_user_create(issuer=issuer, email=f"a@{issuer.slug}.example", password="pw")
        b = staff_user_create(issuer=issuer, email=f"b@{issuer.slug}.example", password="pw")

        def leave(person: StaffMember, issuer=issuer):
            # In the issuer's scope, as the console calls it (a thread starts with none).
            def call() -> None:
                with issuer_scope(issuer):
                    if how == "demote":
                        staff_change_role(staff=person, role="viewer", actor="test")
                    else:
                        staff_remove(staff=person, actor="test")

            return call

        seen = race(leave(a), leave(b))

        assert seen == Counter({"ok": 1, "last_owner": 1}), seen
        owners = StaffMember.objects.filter(issuer=issuer, role=StaffRole.OWNER)
        assert owners.count() == 1
