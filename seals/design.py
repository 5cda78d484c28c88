"""The seal designer's preview: the image a seal of a programme would show the public with the
programme's settings as they stand in a form, saved or not.

It runs the public image's own path (``seals.render.images.render_seal`` on a snapshot), with
only the programme's facts replaced (``snapshot.programme_facts_of`` on the unsaved programme),
so whatever the renderer draws from a programme, the preview draws too.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from issuers.models import Programme
from seals import snapshot
from seals.models import Seal, SealStatus
from seals.render import NO_LONGER_VALID
from seals.render.images import render_seal
from seals.snapshot_types import MemberFacts, SealSnapshot


def _sample(programme: Programme, now: datetime, member_name: str) -> SealSnapshot:
    """A made-up active seal of ``programme``, for a programme that has none yet."""
    issuer = programme.issuer
    return SealSnapshot(
        public_id="preview",
        pk=0,
        status=SealStatus.ACTIVE.value,
        status_changed_at=now,
        valid_from=now,
        expires_at=None,
        version=0,
        status_list=None,
        issuer=snapshot.issuer_facts_of(issuer),
        programme=snapshot.programme_facts_of(programme),
        member=MemberFacts(display_name=member_name, legal_name="", domains=(), country=""),
        history=(),
        erased=False,
        loaded_at=now,
        digest="",
    )


def programme_preview(
    *, programme: Programme, fmt: str, size: str, now: datetime, sample_member: str
) -> bytes:
    """The image, as the public would get it now without ``?theme=``, of the programme's latest
    seal (its member, its status) with ``programme``'s settings, which may be unsaved; an
    active seal of a member named ``sample_member`` when the programme has none. ``fmt`` and
    ``size`` are the public route's (``seals.render.FORMATS``, ``SIZES``)."""
    latest = (
        Seal.objects.filter(programme_id=programme.pk).order_by("-created_at", "-id").first()
        if programme.pk
        else None
    )
    snap = snapshot.load(latest.public_id) if latest is not None else None
    if snap is None:
        snap = _sample(programme, now, sample_member)
    snap = replace(snap, programme=snapshot.programme_facts_of(programme))
    state = NO_LONGER_VALID if snap.erased else snap.status_at(now)
    return render_seal(snap, state, now.date(), fmt, size, snap.programme.theme or "light")
