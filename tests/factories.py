"""factory_boy factories that go through the services, so test data obeys the rules."""

from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone

from issuers.models import Issuer, Member
from issuers.services import member_create, programme_default
from seals.models import Seal
from seals.registry import issuer_create
from seals.services import seal_award


class IssuerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Issuer

    slug = factory.Sequence(lambda n: f"issuer-{n}")
    name = factory.Sequence(lambda n: f"Association {n}")
    website = "https://association.example"

    @classmethod
    def _create(cls, model_class, *args, **kwargs) -> Issuer:
        return issuer_create(**kwargs)


class MemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Member

    issuer = factory.SubFactory(IssuerFactory)
    external_ref = factory.Sequence(lambda n: f"M-{n:05d}")
    legal_name = factory.Sequence(lambda n: f"Member {n} Ltd")
    domains = factory.Sequence(lambda n: [f"member{n}.example"])
    contact_name = "Ada Contact"
    contact_email = factory.Sequence(lambda n: f"contact{n}@member.example")

    @classmethod
    def _create(cls, model_class, *args, **kwargs) -> Member:
        return member_create(**kwargs)


def award(member: Member, *, days: int = 365, start_days: int = 0, **kwargs) -> Seal:
    now = timezone.now()
    return seal_award(
        member=member,
        programme=kwargs.pop("programme", None) or programme_default(member.issuer),
        actor=kwargs.pop("actor", "test"),
        valid_from=now + timedelta(days=start_days),
        expires_at=now + timedelta(days=start_days + days),
        **kwargs,
    )
