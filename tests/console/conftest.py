"""Console fixtures: an issuer with one person in each role, another issuer, signed-in clients."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from allauth.account.models import EmailAddress
from django.test import Client

from announcements.models import Announcement
from announcements.services import announcement_create
from effects.webhooks import webhook_endpoint_create
from issuers.models import (
    ApiKey,
    DataRequest,
    ImportJob,
    Issuer,
    Member,
    StaffMember,
    StaffRole,
    WebhookEndpoint,
)
from issuers.services import apikey_create
from issuers.staff import staff_user_create
from privacy.services import data_request_create
from seals.models import Seal
from tests.factories import IssuerFactory, MemberFactory, award


@dataclass
class World:
    issuer: Issuer
    member: Member
    seal: Seal
    owner: StaffMember
    manager: StaffMember
    viewer: StaffMember
    other_issuer: Issuer
    other_member: Member
    other_seal: Seal
    api_key: ApiKey
    import_job: ImportJob
    endpoint: WebhookEndpoint
    data_request: DataRequest
    announcement: Announcement


def make_staff(issuer: Issuer, email: str, role: str) -> StaffMember:
    staff = staff_user_create(issuer=issuer, email=email, password="pw-" + email, role=role)
    EmailAddress.objects.create(user=staff.user, email=email, verified=True, primary=True)
    return staff


@pytest.fixture
def world(db) -> World:
    issuer = IssuerFactory()
    member = MemberFactory(issuer=issuer)
    other = IssuerFactory()
    other_member = MemberFactory(issuer=other)
    return World(
        issuer=issuer,
        member=member,
        seal=award(member),
        owner=make_staff(issuer, "owner@a.example", StaffRole.OWNER),
        manager=make_staff(issuer, "manager@a.example", StaffRole.MANAGER),
        viewer=make_staff(issuer, "viewer@a.example", StaffRole.VIEWER),
        other_issuer=other,
        other_member=other_member,
        other_seal=award(other_member),
        api_key=apikey_create(issuer=issuer, name="ci").api_key,
        import_job=ImportJob.objects.create(issuer=issuer, format="csv", total=0),
        endpoint=webhook_endpoint_create(issuer=issuer, url="https://hooks.a.example/in").endpoint,
        data_request=data_request_create(issuer=issuer, kind="access", actor="test", member=member),
        announcement=announcement_create(
            issuer=issuer, subject="Annual meeting", body="On 3 May.", programme=None, actor="t"
        ),
    )


def signed_in(staff: StaffMember, **kwargs) -> Client:
    client = Client(**kwargs)
    client.force_login(staff.user, backend="django.contrib.auth.backends.ModelBackend")
    return client


@pytest.fixture
def owner_client(world) -> Client:
    return signed_in(world.owner)


@pytest.fixture
def manager_client(world) -> Client:
    return signed_in(world.manager)


@pytest.fixture
def viewer_client(world) -> Client:
    return signed_in(world.viewer)


def reauthenticated(client: Client, staff: StaffMember) -> Client:
    """Mark the session as having re-entered its password just now, as allauth's
    re-authentication page does (its own flow is tested in test_signing_keys.py)."""
    import time

    from allauth.account.internal.flows import login

    session = client.session
    session[login._AUTHENTICATION_METHODS_USER_SESSION_KEY] = str(staff.user.pk)
    session[login.AUTHENTICATION_METHODS_SESSION_KEY] = [
        {"method": "password", "at": time.time(), "reauthenticated": True}
    ]
    session.save()
    return client
