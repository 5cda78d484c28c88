"""Shapes of the issuer API: input serializers validate shape only; rules live in services."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import ProhibitNullCharactersValidator
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail
from rest_framework.validators import ProhibitSurrogateCharactersValidator

from issuers.countries import country_problem
from issuers.dates import check_day
from issuers.domains import normalise_domains
from issuers.models import ImportJob, Issuer, Member, Programme
from issuers.text import validate_multi_line_text, validate_single_line_text
from seals import keys, links, selectors
from seals.models import Seal, SealEvent, SealStatus, SigningKey
from seals.status import effective_status

# Object ids are 64-bit keys. Bounding them at the edge answers an out-of-range id with a 400
# naming the field, instead of an overflow inside the database driver.
MAX_OBJECT_ID = 2**63 - 1


class ObjectIdField(serializers.IntegerField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_OBJECT_ID)
        super().__init__(**kwargs)


_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")


@extend_schema_field(
    {
        "type": "string",
        "oneOf": [{"format": "date-time"}, {"format": "date"}],
        "example": "2027-12-31T23:59:59Z",
    }
)
class DayOrMomentField(serializers.Field):
    """An instant, or a date alone (``2027-12-31``), which the seal services read as that day
    in the issuer's time zone (issuers.dates) rather than as its first midnight in UTC.

    Instants are DRF's DateTimeField's, errors and time zone included; the field is not one
    (it would then promise a datetime), it hands instants to one."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.moment = serializers.DateTimeField()
        self.error_messages = {**self.moment.error_messages, **self.error_messages}

    def to_internal_value(self, data: Any) -> date | datetime:
        if isinstance(data, str) and _DATE_ONLY.fullmatch(data.strip()):
            try:
                return check_day(date.fromisoformat(data.strip()))
            except ValueError:
                self.fail(
                    "invalid", format="YYYY-MM-DD (years 0002 to 9998) or an ISO 8601 date-time"
                )
        return self.moment.to_internal_value(data)

    def to_representation(self, value: date | datetime) -> str:
        if isinstance(value, datetime):
            return self.moment.to_representation(value)
        return value.isoformat()


def _guard_text(field: serializers.CharField, *, multiline: bool) -> None:
    """Give a text field the one text rule (issuers.text). DRF's own NUL and surrogate checks
    are dropped: the rule covers both, and two messages for one character would read badly."""
    rule: Callable[[str], None] = (
        validate_multi_line_text if multiline else validate_single_line_text
    )
    field.validators = [
        v
        for v in field.validators
        if not isinstance(v, ProhibitNullCharactersValidator | ProhibitSurrogateCharactersValidator)
        and v not in (validate_multi_line_text, validate_single_line_text)
    ] + [rule]


class TextField(serializers.CharField):
    """Free text an issuer writes (names, wording, reasons): refuses control characters and
    anything XML 1.0 cannot carry; ``multiline=True`` allows tab and line breaks."""

    def __init__(self, *, multiline: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        _guard_text(self, multiline=multiline)


class StrictInputMixin(serializers.Serializer):
    """The base of every serializer that reads a request body.

    - A field the serializer does not have, or one it only outputs, is refused with a 400 naming
      it ("unknown field" / "read-only field"), as Stripe does: silently ignoring
      ``{"is_default": false}`` or a typo'd name answers 200 for a change that did not happen.
    - Every writable text field gets the text rule (issuers.text): single-line unless its name
      is in ``multiline_fields``.
    """

    multiline_fields: tuple[str, ...] = ()

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        for name, field in fields.items():
            # A TextField carries its own choice of single- or multi-line.
            if isinstance(field, serializers.CharField) and not isinstance(field, TextField):
                _guard_text(field, multiline=name in self.multiline_fields)
        return fields

    def _refused_fields(self, data: Mapping[str, Any]) -> dict[str, list[ErrorDetail]]:
        fields = self.fields
        writable = [name for name, field in fields.items() if not field.read_only]
        refused: dict[str, list[ErrorDetail]] = {}
        for key in data:
            field = fields.get(key)
            if field is None:
                close = difflib.get_close_matches(str(key), writable, n=1)
                hint = f" Did you mean {close[0]!r}?" if close else ""
                message = f"Unknown field.{hint} Writable fields: {', '.join(writable)}."
                refused[str(key)] = [ErrorDetail(message, code="unknown_field")]
            elif field.read_only:
                refused[str(key)] = [
                    ErrorDetail(
                        "Read-only field; it cannot be set by a request. Leave it out.",
                        code="read_only_field",
                    )
                ]
        return refused

    def to_internal_value(self, data: Any) -> Any:
        refused = self._refused_fields(data) if isinstance(data, Mapping) else {}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if refused and isinstance(exc.detail, dict):
                raise serializers.ValidationError({**exc.detail, **refused}) from exc
            raise
        if refused:
            raise serializers.ValidationError(refused)
        return value


class StrictSerializer(StrictInputMixin, serializers.Serializer):
    """Base of request-body serializers (not of query-string filters, which share the query
    string with ``limit``, ``cursor`` and ``ordering``)."""


class StrictModelSerializer(StrictInputMixin, serializers.ModelSerializer):
    """Base of model serializers that also read request bodies."""


class IssuerSerializer(StrictModelSerializer):
    multiline_fields = ("description",)
    has_logo = serializers.SerializerMethodField()

    class Meta:
        model = Issuer
        fields = [
            "slug",
            "name",
            "kind",
            "website",
            "time_zone",
            "description",
            "public_email",
            "register_lists_members",
            "status",
            "logo_version",
            "has_logo",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["slug", "status", "logo_version", "created_at", "updated_at"]

    def get_has_logo(self, issuer: Issuer) -> bool:
        return bool(issuer.logo_version)


class ProgrammeSerializer(StrictModelSerializer):
    multiline_fields = ("description",)
    slug = serializers.SlugField(
        max_length=60, help_text="Identifier in URLs and credentials; fixed once created."
    )
    notice_days = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=365),
        required=False,
        max_length=10,
        help_text="Days before expiry at which members are reminded, e.g. [30, 7, 1].",
    )
    accent_colour = serializers.RegexField(r"^#[0-9a-fA-F]{6}$", required=False)

    class Meta:
        model = Programme
        fields = [
            "slug",
            "name",
            "description",
            "criteria_url",
            "renewal_url",
            "validity_days",
            "notice_days",
            "theme",
            "wording",
            "accent_colour",
            "signatory_name",
            "signatory_title",
            "is_default",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["is_default", "created_at", "updated_at"]
        extra_kwargs = {
            "validity_days": {"min_value": 1, "max_value": 3660},
            "signatory_name": {
                "help_text": "Who signs the printed certificate; blank prints a plain signature "
                "line labelled with the issuer's name."
            },
            "signatory_title": {"help_text": "The signatory's title, printed under the name."},
            "renewal_url": {
                "help_text": "Where members renew: expiry notices link here. Blank, they ask "
                "members to contact the issuer (its public e-mail and website)."
            },
        }
        # Uniqueness of the slug is checked by the service's full_clean.
        validators: list = []


class ProgrammeUpdateSerializer(ProgrammeSerializer):
    slug = serializers.SlugField(read_only=True)

    class Meta(ProgrammeSerializer.Meta):
        read_only_fields = ["slug", "is_default", "created_at", "updated_at"]


def _country(value: str) -> str:
    """``value`` as an upper-case ISO 3166-1 alpha-2 code ("" for none), or a 400 on the field."""
    if (problem := country_problem(value)) is not None:
        raise serializers.ValidationError(problem, code="invalid")
    return value.strip().upper()


def _domains(value: list[str]) -> list[str]:
    try:
        return normalise_domains(value)
    except DjangoValidationError as exc:
        raise serializers.ValidationError(exc.messages) from exc


class SealSummarySerializer(serializers.Serializer):
    id = serializers.CharField(source="public_id")
    programme = serializers.CharField(source="programme.slug")
    status = serializers.SerializerMethodField()
    expires_at = serializers.DateTimeField(allow_null=True)

    def get_status(self, seal: Seal) -> str:
        return effective_status(seal, self.context.get("now") or timezone.now())


class MemberSerializer(StrictModelSerializer):
    domains = serializers.ListField(
        child=serializers.CharField(max_length=253),
        required=False,
        max_length=50,
        help_text="Bare hostnames (example.com); stored lower-case and IDNA-encoded.",
    )
    country = serializers.CharField(
        max_length=2, required=False, allow_blank=True, help_text="ISO 3166-1 alpha-2 (GB, DE)."
    )
    contact_email = serializers.EmailField(required=False, allow_blank=True)
    seals = SealSummarySerializer(many=True, read_only=True)

    class Meta:
        model = Member
        fields = [
            "id",
            "external_ref",
            "legal_name",
            "display_name",
            "domains",
            "country",
            "contact_name",
            "contact_email",
            "contact_phone",
            "marketing_opt_out",
            "register_listed",
            "language",
            "restricted",
            "erased_at",
            "seals",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "restricted", "erased_at", "created_at", "updated_at"]
        extra_kwargs = {
            "display_name": {"required": False},
            "register_listed": {
                "help_text": "In the issuer's public register: true, false, or null to follow "
                "the issuer's register_lists_members. Restricted and erased members are never "
                "listed."
            },
            "language": {
                "help_text": "The language of mail to the member (expiry notices, "
                "announcements): en, fr, de, es or ar."
            },
        }
        validators: list = []

    def validate_country(self, value: str) -> str:
        return _country(value)

    def validate_domains(self, value: list[str]) -> list[str]:
        return _domains(value)


class MemberUpdateSerializer(MemberSerializer):
    class Meta(MemberSerializer.Meta):
        read_only_fields = [*MemberSerializer.Meta.read_only_fields, "external_ref"]


# The member list's ``?ordering=`` choices (the view's ordering_fields, the schema's description).
MEMBER_ORDERING = ["display_name", "legal_name", "external_ref", "created_at", "updated_at"]


class MemberFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=SealStatus.choices,
        required=False,
        help_text="Members holding a seal whose effective status is this.",
    )
    programme = serializers.SlugField(required=False, help_text="Members with a seal in it.")
    expiring_before = serializers.DateTimeField(
        required=False,
        help_text="Members holding a seal, not revoked, that expires before this instant.",
    )
    q = serializers.CharField(required=False, max_length=100, help_text="Name or reference.")
    domain = serializers.CharField(required=False, max_length=253)
    country = serializers.CharField(
        required=False, max_length=2, help_text="ISO 3166-1 alpha-2 code, such as GB."
    )
    external_ref = serializers.CharField(required=False, max_length=100)

    def validate_domain(self, value: str) -> str:
        return _domains([value])[0]

    def validate_country(self, value: str) -> str:
        return _country(value)


class SealFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=SealStatus.choices, required=False, help_text="Effective status now."
    )
    programme = serializers.SlugField(required=False)
    member = ObjectIdField(required=False, help_text="Member id.")
    expiring_before = serializers.DateTimeField(required=False)


class SealLinksSerializer(serializers.Serializer):
    image = serializers.URLField()
    verify = serializers.URLField()
    credential = serializers.URLField()
    embed = serializers.URLField()


class SealSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id", read_only=True)
    member = serializers.IntegerField(source="member_id", read_only=True)
    member_external_ref = serializers.CharField(source="member.external_ref", read_only=True)
    programme = serializers.CharField(source="programme.slug", read_only=True)
    status = serializers.SerializerMethodField(
        help_text="Effective status now: revoked > suspended > expired > pending > active."
    )
    stored_status = serializers.CharField(source="status", read_only=True)
    links = serializers.SerializerMethodField()

    class Meta:
        model = Seal
        fields = [
            "id",
            "member",
            "member_external_ref",
            "programme",
            "status",
            "stored_status",
            "status_reason",
            "status_changed_at",
            "valid_from",
            "expires_at",
            "version",
            "links",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=SealStatus.choices))
    def get_status(self, seal: Seal) -> str:
        return effective_status(seal, self.context.get("now") or timezone.now())

    @extend_schema_field(SealLinksSerializer)
    def get_links(self, seal: Seal) -> dict[str, str]:
        return seal_links(seal)


def seal_links(seal: Seal) -> dict[str, str]:
    from django.conf import settings

    base = settings.PUBLIC_BASE_URL
    return {
        "image": links.image_url(seal),
        "verify": links.verify_url(seal),
        "credential": f"{base}/s/{seal.public_id}/credential.jwt",
        "embed": f"{base}/embed/{seal.public_id}",
    }


class SealAwardSerializer(StrictSerializer):
    member = ObjectIdField(help_text="The member's id.")
    programme = serializers.SlugField(
        required=False, help_text="Programme slug; the issuer's default programme when absent."
    )
    valid_from = DayOrMomentField(
        required=False,
        help_text="Default: now. A date alone: the start of that day in the issuer's time zone.",
    )
    expires_at = DayOrMomentField(
        required=False,
        help_text="Default: valid_from + the programme's validity_days. A date alone: the seal "
        "holds to the end of that day in the issuer's time zone.",
    )


class SealReasonSerializer(StrictSerializer):
    reason = TextField(
        multiline=True,
        max_length=500,
        help_text="Why; kept in the seal's history (not published).",
    )


class SealRenewSerializer(SealReasonSerializer):
    expires_at = DayOrMomentField(
        help_text="The new expiry; must be in the future. A date alone: the end of that day "
        "in the issuer's time zone."
    )


class SealEventSerializer(serializers.ModelSerializer):
    seal = serializers.CharField(source="seal.public_id")

    class Meta:
        model = SealEvent
        # private_data (reasons, personal payloads) is never exposed; its salted digest is in
        # data.private_digest so the chain stays verifiable.
        fields = ["seq", "seal", "kind", "actor", "occurred_at", "data", "prev_hash", "hash"]
        read_only_fields = fields


class EmbedSerializer(serializers.Serializer):
    seal = serializers.CharField()
    size = serializers.ChoiceField(choices=["small", "medium", "large"])
    html = serializers.CharField(help_text="Paste into the member's site: <a><img></a>.")
    image_url = serializers.URLField()
    verify_url = serializers.URLField()


class ImportErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="1 = the first data row (CSV line 2); 0 = file.")
    field = serializers.CharField(allow_null=True)
    message = serializers.CharField()
    code = serializers.CharField()


class ImportRowErrorSerializer(serializers.Serializer):
    """One of every row error of an import (``GET /imports/{id}/errors``), the shape of
    ``ImportErrorSerializer``."""

    row = serializers.IntegerField(help_text="1 = the first data row (CSV line 2); 0 = file.")
    field = serializers.SerializerMethodField()
    message = serializers.CharField()
    code = serializers.CharField()

    def get_field(self, error: Any) -> str | None:
        return error.field or None


class ImportJobSerializer(serializers.ModelSerializer):
    # A declared field, moved off the class by DRF's metaclass: it does not shadow the
    # `errors` property at run time, which the stubs cannot know.
    errors = ImportErrorSerializer(  # type: ignore[assignment]
        many=True,
        help_text="The first 100 row errors; all of them (error_count) are listed at "
        "/api/v1/imports/{id}/errors.",
    )

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "state",
            "format",
            "mode",
            "dry_run",
            "total",
            "processed",
            "created",
            "updated",
            "unchanged",
            "failed",
            "seals_awarded",
            "seals_renewed",
            "seals_unchanged",
            "errors",
            "error_count",
            "phase",
            "attempts",
            "reason",
            "created_at",
            "finished_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "processed": {"help_text": "Rows checked so far."},
            "phase": {
                "help_text": "check: rows are being checked, nothing written yet (all-or-nothing "
                "and dry runs); write: rows are being written, in batches."
            },
            "attempts": {
                "help_text": "Runs started: more than 1 when the import was resumed after its "
                "worker stopped."
            },
            "reason": {"help_text": "Why the import as a whole failed, when it did."},
            "error_count": {"help_text": "How many row errors the import found: all are kept."},
            # A dry run counts what the import would do, as the console shows it.
            "seals_awarded": {
                "help_text": "Seals awarded (dry run: that would be): the member held no live "
                "seal in the row's programme."
            },
            "seals_renewed": {
                "help_text": "Seals renewed (dry run: that would be): the row's expires_at "
                "differs from the live seal's."
            },
            "seals_unchanged": {
                "help_text": "Live seals the rows leave as they are (dry run: would leave)."
            },
        }


class ImportOptionsSerializer(StrictSerializer):
    mode = serializers.ChoiceField(
        choices=ImportJob.Mode.choices,
        default=ImportJob.Mode.ALL_OR_NOTHING,
        help_text="all_or_nothing: nothing is written when any row fails; partial: valid rows "
        "are written.",
    )
    dry_run = serializers.BooleanField(default=False, help_text="Check only; write nothing.")


# --- signing keys and credentials ------------------------------------------------------------


class SigningKeySerializer(serializers.ModelSerializer):
    kid = serializers.SerializerMethodField(
        help_text="The JWT `kid`: an absolute URL answering this key's bare public JWK."
    )
    public_jwk = serializers.SerializerMethodField(
        help_text="RFC 7517 public JWK (kid, alg, use); private members are never returned."
    )

    class Meta:
        model = SigningKey
        fields = [
            "key_id",
            "kid",
            "algorithm",
            "state",
            "created_at",
            "retired_at",
            "revoked_at",
            "public_jwk",
        ]
        read_only_fields = fields

    def get_kid(self, key: SigningKey) -> str:
        return keys.key_kid(key)

    def get_public_jwk(self, key: SigningKey) -> dict[str, Any]:
        return keys.key_public_jwk(key)


class KeyRotateSerializer(StrictSerializer):
    algorithm = serializers.ChoiceField(
        choices=SigningKey.Algorithm.choices,
        required=False,
        help_text="Algorithm of the new key; default: the current key's (ES256 for a new issuer).",
    )


class CredentialSerializer(serializers.Serializer):
    seal = serializers.CharField(help_text="The seal's public id.")
    jwt = serializers.CharField(
        help_text="The Open Badges 3.0 credential as a VC-JWT (the same as "
        "/s/<seal_id>/credential.jwt)."
    )
    header = serializers.DictField(help_text="The decoded JWT header: alg, kid, typ.")
    payload = serializers.DictField(
        help_text="The decoded payload: the OpenBadgeCredential plus iss, sub, jti, nbf, exp."
    )


# --- statistics ------------------------------------------------------------------------------


# ``from`` is a Python keyword: the fields are declared as ``from_``/``to_`` and renamed here,
# so both the query parameters and the answer say ``from`` and ``to``. ``lead`` puts a
# subclass's identifying fields first, where a reader of the JSON looks for them.
class _FromTo(serializers.Serializer):
    lead: tuple[str, ...] = ()

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = {name.rstrip("_"): field for name, field in super().get_fields().items()}
        return {**{name: fields.pop(name) for name in self.lead}, **fields}


class StatsQuerySerializer(_FromTo, serializers.Serializer):
    """The day range of a statistics request."""

    from_ = serializers.DateField(
        required=False,
        help_text="First day (UTC), YYYY-MM-DD; default: 29 days before `to`.",
    )
    to_ = serializers.DateField(
        required=False,
        help_text=f"Last day (UTC), YYYY-MM-DD, inclusive; default: today. At most "
        f"{selectors.STATS_MAX_DAYS} days from `from` to `to`.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # A range the rules refuse is the selector's StatsWindowError, a 400 on from or to.
        date_from, date_to = selectors.stats_window(
            date_from=attrs.get("from"), date_to=attrs.get("to"), today=timezone.now().date()
        )
        return {**attrs, "from": date_from, "to": date_to}


class IssuerStatsQuerySerializer(StatsQuerySerializer):
    programme = serializers.SlugField(
        required=False, help_text="Only the seals of this programme (its slug)."
    )


class StatCountsSerializer(serializers.Serializer):
    """Counters of the public views; no IP, cookie or anything else about visitors is kept."""

    impressions = serializers.IntegerField(help_text="Seal image views (SVG and PNG).")
    verifications = serializers.IntegerField(help_text="Verification page views (HTML and JSON).")
    misuse_hits = serializers.IntegerField(
        help_text="Views on behalf of a site that is not one of the member's domains (the "
        "image's `?d=` or the verification page's `Referer`)."
    )


class DayCountsSerializer(_FromTo, StatCountsSerializer):
    """The counters of one day (UTC)."""

    lead = ("date",)

    date = serializers.DateField()


class _SeriesSerializer(_FromTo, serializers.Serializer):
    """Counters per day over a range, with their totals."""

    from_ = serializers.DateField(source="date_from", help_text="First day, UTC.")
    to_ = serializers.DateField(source="date_to", help_text="Last day, UTC, inclusive.")
    totals = StatCountsSerializer(help_text="The sums of `days`.")
    days = DayCountsSerializer(
        many=True,
        help_text="Every day from `from` to `to`, oldest first; days without counts are zeros.",
    )


class SealStatsSerializer(_SeriesSerializer):
    """One seal's counters per day."""

    lead = ("seal", "programme", "counted")

    seal = serializers.CharField(help_text="The seal's public id.")
    programme = serializers.SlugField()
    counted = serializers.BooleanField(
        help_text="False while the member is restricted or erased: nothing is counted for its "
        "seals then (days counted before stay listed)."
    )


class IssuerStatsSerializer(_SeriesSerializer):
    """The issuer's counters per day, summed over its seals."""

    lead = ("programme",)

    programme = serializers.SlugField(
        allow_null=True, help_text="The `programme` filter; null: every seal of the issuer."
    )
