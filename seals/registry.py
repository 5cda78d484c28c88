"""Changes to issuers, programmes and members that the seals they carry must follow.

What an issuer, a programme or a member *is* lives in ``issuers``; changing one changes what every
seal it carries says, so the change runs here, in the seal layer: it invalidates the cached seal
snapshots, records ``details_changed`` in each live seal's history, and keeps the one-live-seal
rule. Creating an issuer also creates its first signing key.
"""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, ProtectedError, Q
from django.utils import timezone

from config.errors import ConflictError
from issuers.countries import country_code
from issuers.domains import normalise_domains
from issuers.encryption import blind_index
from issuers.events import webhook_emit
from issuers.logos import logo_normalise
from issuers.models import Issuer, Member, Programme
from issuers.services import (
    ISSUER_EDITABLE,
    MEMBER_EDITABLE,
    PROGRAMME_EDITABLE,
    InUseError,
    apply_changes,
    refuse_if_erased,
)
from seals import snapshot
from seals.chain import record_event
from seals.keys import signing_key_create
from seals.models import Seal, SealEvent, SealStatus
from seals.services import seal_award


class SealExistsError(ConflictError):
    """The member already holds a live seal in the programme (API: 409 Conflict)."""

    code = "seal_exists"


@transaction.atomic
def issuer_create(
    *,
    slug: str,
    name: str,
    kind: str = Issuer.Kind.ASSOCIATION,
    website: str = "",
    public_email: str = "",
) -> Issuer:
    """Create an issuer with its default programme."""
    issuer = Issuer(slug=slug, name=name, kind=kind, website=website, public_email=public_email)
    issuer.full_clean()
    issuer.save()
    Programme.objects.create(
        issuer=issuer,
        slug="member",
        # The issuer is named beside the programme everywhere (seal, page, credential, mail):
        # repeating it in the programme's name would read "Guild member seal from Guild".
        name="Member",
        is_default=True,
        description=f"Member in good standing of {name}.",
    )
    signing_key_create(issuer=issuer)
    return issuer


def _on_commit_invalidate(name: str, obj: object) -> None:
    def invalidate() -> None:
        getattr(snapshot, name)(obj)

    transaction.on_commit(invalidate)


@transaction.atomic
def issuer_update(*, issuer: Issuer, **changes: object) -> Issuer:
    changed = apply_changes(issuer, ISSUER_EDITABLE, changes)
    if changed:
        issuer.full_clean()
        issuer.save(update_fields=[*changed, "updated_at"])
        _on_commit_invalidate("invalidate_issuer", issuer)
    return issuer


@transaction.atomic
def issuer_credentials_use_did_set(*, issuer: Issuer, enabled: bool) -> Issuer:
    """Sign as the issuer's DID (or, again, as its profile URL) from now on.

    Credentials follow at once (their content, and so their id, names the new issuer id); the
    status lists are marked dirty so the next regeneration re-signs them as the same issuer.
    Credentials signed before keep verifying: their kid still names a published key.
    """
    from seals.keys import forget_published
    from seals.models import StatusList

    if issuer.credentials_use_did == enabled:
        return issuer
    issuer.credentials_use_did = enabled
    issuer.save(update_fields=["credentials_use_did", "updated_at"])
    StatusList.objects.filter(issuer=issuer).update(version=F("version") + 1)
    transaction.on_commit(lambda: forget_published(issuer))
    _on_commit_invalidate("invalidate_issuer", issuer)
    return issuer


@transaction.atomic
def issuer_logo_set(*, issuer: Issuer, data: bytes) -> Issuer:
    """Validate and re-encode the upload (issuers.logos); raises LogoError."""
    png = logo_normalise(data)
    issuer = Issuer.objects.select_for_update().get(pk=issuer.pk)
    issuer.logo_png = png
    issuer.logo_version += 1
    issuer.save(update_fields=["logo_png", "logo_version", "updated_at"])
    _on_commit_invalidate("invalidate_issuer", issuer)
    return issuer


@transaction.atomic
def programme_update(*, programme: Programme, **changes: object) -> Programme:
    changed = apply_changes(programme, PROGRAMME_EDITABLE, changes)
    if changed:
        programme.full_clean()
        programme.save(update_fields=[*changed, "updated_at"])
        _on_commit_invalidate("invalidate_programme", programme)
    return programme


@transaction.atomic
def programme_delete(*, programme: Programme) -> None:
    if programme.is_default:
        raise InUseError("The default programme cannot be deleted.")
    if programme.seals.exists():
        raise InUseError(
            "The programme has seals; revoke them instead (seal history is kept for ever)."
        )
    try:
        programme.delete()
    except ProtectedError as exc:
        # Announcements addressed to its members keep it (their record says to whom they went).
        raise InUseError("Announcements were addressed to this programme's members.") from exc


# The row, its webhook's outbox row and the seals' history events commit together or not at all.
@transaction.atomic
def member_update(*, member: Member, actor: str = "", **changes: object) -> Member:
    refuse_if_erased(member)
    if "domains" in changes:
        domains = changes["domains"] or []
        if not isinstance(domains, list | tuple) or not all(isinstance(d, str) for d in domains):
            raise ValidationError("Domains are a list of host names.")
        changes["domains"] = normalise_domains(list(domains))
    if "country" in changes:
        changes["country"] = country_code(str(changes["country"] or ""))
    changed = apply_changes(member, MEMBER_EDITABLE, changes)
    if not changed:
        return member
    if "contact_email" in changed:
        member.contact_email_hash = blind_index(member.contact_email)
        changed.append("contact_email_hash")
    member.full_clean()
    member.save(update_fields=[*changed, "updated_at"])
    # Field names only: the values may be personal data (issuers read them through the API).
    webhook_emit(
        issuer_id=member.issuer_id,
        event_type="member.updated",
        data={
            "member": member.external_ref,
            "fields": sorted(set(changed) - {"contact_email_hash"}),
        },
    )
    public = [f for f in changed if f in Member.PUBLIC_FIELDS]
    if public:
        _record_details_changed(member=member, fields=public, actor=actor or "api")
        _on_commit_invalidate("invalidate_member", member)
    return member


def _record_details_changed(*, member: Member, fields: list[str], actor: str) -> None:
    """One ``details_changed`` event per live seal: the history shows when what a seal says
    about its holder changed. Only field names go into the chain (it holds no personal data)."""
    for seal in Seal.objects.filter(member=member).exclude(status=SealStatus.REVOKED):
        record_event(
            seal=seal, kind=SealEvent.Kind.DETAILS_CHANGED, actor=actor, data={"fields": fields}
        )


@transaction.atomic
def member_delete(*, member: Member) -> None:
    if member.seals.exists():
        raise InUseError(
            "The member has seals, whose history is kept: revoke them instead, or file an "
            "erasure request to erase the member's personal data."
        )
    member.delete()


@transaction.atomic
def member_seal_award(
    *,
    member: Member,
    programme: Programme,
    actor: str,
    valid_from: datetime | None = None,
    expires_at: datetime | None = None,
) -> Seal:
    """Award unless the member already holds a live (not revoked, not expired) seal in the
    programme: a second one would show two answers for one membership (renew it instead).

    Steps: (1) lock the member's row, so concurrent awards to one member run one after the
    other (no constraint can say "one live seal": liveness depends on the clock); (2) refuse
    an erased member, as read under the lock; (3) look for a live seal, which now sees one a
    concurrent award committed; (4) award. Lock order member -> issuer (the chain), as erasure.
    """
    member = Member.objects.select_for_update().get(pk=member.pk)
    refuse_if_erased(member)
    now = timezone.now()
    live = (
        Seal.objects.filter(member=member, programme=programme)
        .exclude(status__in=[SealStatus.REVOKED, SealStatus.EXPIRED])
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .first()
    )
    if live is not None:
        raise SealExistsError(
            f"The member already holds a live seal in this programme ({live.public_id}); "
            "renew it instead."
        )
    return seal_award(
        member=member,
        programme=programme,
        actor=actor,
        valid_from=valid_from,
        expires_at=expires_at,
    )
