"""Rules for issuers, their API keys, programmes and members."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from config.errors import ConflictError, InvalidInputError
from issuers.countries import country_code
from issuers.domains import normalise_domains
from issuers.encryption import blind_index
from issuers.models import ApiKey, Issuer, Member, Programme

API_KEY_PREFIX = "ts_live_"


@dataclass(frozen=True)
class NewApiKey:
    api_key: ApiKey
    plaintext: str  # shown once, never stored


def _hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def apikey_create(*, issuer: Issuer, name: str, scopes: list[str] | None = None) -> NewApiKey:
    scopes = scopes or [ApiKey.Scope.READ, ApiKey.Scope.WRITE]
    unknown = set(scopes) - set(ApiKey.Scope.values)
    if unknown:
        raise InvalidInputError("scopes", f"Unknown scopes: {', '.join(sorted(unknown))}")
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    key = ApiKey.objects.create(
        issuer=issuer,
        name=name,
        prefix=prefix,
        secret_hash=_hash_secret(secret),
        scopes=sorted(set(scopes)),
    )
    return NewApiKey(api_key=key, plaintext=f"{API_KEY_PREFIX}{prefix}_{secret}")


def apikey_authenticate(raw: str) -> ApiKey | None:
    """The active key for ``ts_live_<prefix>_<secret>``, or None. Constant-time on the secret."""
    if not raw.startswith(API_KEY_PREFIX):
        return None
    prefix, sep, secret = raw[len(API_KEY_PREFIX) :].partition("_")
    if not sep or len(prefix) != 12 or not secret:
        return None
    key = (
        ApiKey.objects.select_related("issuer")
        .filter(prefix=prefix, revoked_at__isnull=True)
        .first()
    )
    # Hash even when no key matched so timing does not reveal which prefixes exist.
    candidate = _hash_secret(secret)
    if key is None:
        hmac.compare_digest(candidate, "0" * 64)
        return None
    return key if hmac.compare_digest(candidate, key.secret_hash) else None


def apikey_revoke(*, api_key: ApiKey) -> ApiKey:
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
    return api_key


class AlreadyExistsError(ConflictError):
    """A unique key is taken (API: 409). Raised alike whether a check found the row or the
    database's unique constraint refused the insert because a concurrent request won the race,
    so a client sees the same answer either way."""


class MemberExistsError(AlreadyExistsError):
    def __init__(self, *, external_ref: str, member_id: int) -> None:
        self.external_ref = external_ref
        self.member_id = member_id
        super().__init__(f"A member with external_ref {external_ref!r} already exists.")

    code = "member_exists"

    @property
    def detail(self) -> str:
        return (
            f"A member with external_ref {self.external_ref!r} already exists "
            f"(id {self.member_id}); update it with PATCH /api/v1/members/{self.member_id}."
        )


class ProgrammeExistsError(AlreadyExistsError):
    def __init__(self, *, slug: str) -> None:
        self.slug = slug
        super().__init__(f"A programme with slug {slug!r} already exists.")


def _insert_unique(
    obj: Member | Programme, *, taken: Callable[[], AlreadyExistsError | None]
) -> None:
    """Insert ``obj`` whose unique key was checked by ``taken`` before; a concurrent insert of
    the same key can still pass that check, so the constraint decides.

    Steps: (1) insert inside a savepoint, so a refused insert leaves the caller's transaction
    usable; (2) on IntegrityError, ask ``taken`` again: on PostgreSQL the refused INSERT waited
    for the winner to commit, so under READ COMMITTED the next query sees its row; (3) re-raise
    any other integrity error as it is.
    """
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError as exc:
        error = taken()
        if error is None:
            raise
        raise error from exc


@transaction.atomic
def member_create(
    *,
    issuer: Issuer,
    external_ref: str,
    legal_name: str,
    display_name: str = "",
    domains: list[str] | None = None,
    country: str = "",
    contact_name: str = "",
    contact_email: str = "",
    contact_phone: str = "",
    register_listed: bool | None = None,
    language: str = "en",
) -> Member:
    member = Member(
        issuer=issuer,
        external_ref=external_ref,
        legal_name=legal_name,
        display_name=display_name or legal_name,
        domains=normalise_domains(domains or []),
        country=country_code(country),
        contact_name=contact_name,
        contact_email=contact_email,
        contact_email_hash=blind_index(contact_email),
        contact_phone=contact_phone,
        register_listed=register_listed,
        language=language,
    )

    def taken() -> MemberExistsError | None:
        pk = (
            Member.objects.filter(issuer=issuer, external_ref=external_ref)
            .values_list("pk", flat=True)
            .first()
        )
        return None if pk is None else MemberExistsError(external_ref=external_ref, member_id=pk)

    if (error := taken()) is not None:
        raise error
    # The unique constraint (the only one on Member) is left to the insert: a check here would
    # race, and its loser got a 400 on __all__ instead of the 409 any other duplicate gets.
    member.full_clean(validate_constraints=False)
    _insert_unique(member, taken=taken)
    return member


def programme_default(issuer: Issuer) -> Programme:
    return issuer.programmes.get(is_default=True)


def issuer_slug_for(name: str) -> str:
    return slugify(name)[:60] or "issuer"


# --- issuer API ---------------------------------------------------------------------------------

ISSUER_EDITABLE = (
    "name",
    "kind",
    "website",
    "description",
    "public_email",
    "register_lists_members",
    "time_zone",
)
PROGRAMME_EDITABLE = (
    "name",
    "description",
    "criteria_url",
    "renewal_url",
    "validity_days",
    "notice_days",
    "theme",
    "accent_colour",
    "wording",
    "signatory_name",
    "signatory_title",
)
MEMBER_EDITABLE = (
    *Member.PROFILE_FIELDS,
    "marketing_opt_out",
    "register_listed",
    "language",
)


class InUseError(ConflictError):
    """The object is still referenced (API: 409 Conflict)."""

    code = "in_use"


class MemberErasedError(ConflictError):
    """The member's data was erased; its record can no longer change (API: 409 Conflict)."""

    code = "member_erased"


def apply_changes(obj: object, fields: tuple[str, ...], changes: dict) -> list[str]:
    unknown = set(changes) - set(fields)
    if unknown:
        raise InvalidInputError(None, f"Not editable: {', '.join(sorted(unknown))}")
    changed = [f for f, v in changes.items() if getattr(obj, f) != v]
    for field in changed:
        setattr(obj, field, changes[field])
    return changed


@transaction.atomic
def programme_create(*, issuer: Issuer, slug: str, name: str, **fields: object) -> Programme:
    programme = Programme(issuer=issuer, slug=slug, name=name)
    apply_changes(programme, PROGRAMME_EDITABLE, fields)

    def taken() -> ProgrammeExistsError | None:
        exists = Programme.objects.filter(issuer=issuer, slug=slug).exists()
        return ProgrammeExistsError(slug=slug) if exists else None

    if (error := taken()) is not None:
        raise error
    # Both constraints are left to the insert: the slug's would race (see member_create), and
    # one_default_programme_per_issuer cannot fail here (is_default is False).
    programme.full_clean(validate_constraints=False)
    _insert_unique(programme, taken=taken)
    return programme


def refuse_if_erased(member: Member) -> None:
    # An erasure is final: writing to the record again would bring back what the member asked
    # to have destroyed. An organisation that rejoins is registered anew.
    if member.erased_at is not None:
        raise MemberErasedError(
            "The member's data was erased; its record can no longer change. "
            "Register the organisation as a new member if it rejoins."
        )
