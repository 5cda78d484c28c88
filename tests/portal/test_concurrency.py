"""Two clicks on one sign-in link at once, on PostgreSQL: one signs in, the other is refused.
Real threads, each with its own connection."""

from __future__ import annotations

import threading

import pytest
from django.core import mail
from django.db import connections
from django.test import Client

from portal.services import sign_in_link_redeem
from tests.factories import MemberFactory
from tests.portal.conftest import LINK, ask

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_a_link_used_twice_at_once_signs_in_once():
    member = MemberFactory(contact_email="office@race.example")
    for _ in range(3):
        ask(Client(), member.contact_email)
        token = LINK.search(mail.outbox[-1].body).group("token")
        barrier = threading.Barrier(4)
        results: list[object] = []

        def redeem(token=token, barrier=barrier, results=results) -> None:
            try:
                barrier.wait()
                results.append(sign_in_link_redeem(token=token))
            finally:
                connections.close_all()

        threads = [threading.Thread(target=redeem) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        signed_in = [r for r in results if r is not None]
        assert len(results) == 4 and len(signed_in) == 1
