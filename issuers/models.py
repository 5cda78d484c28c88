"""Issuers, their API keys, programmes, members, webhooks, imports and data-subject requests."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Concat, Upper
from django.utils import timezone

from config.db_indexes import PostgresGinIndex
from config.id_first import IdFirstQuerySet
from config.tenancy import IssuerScopedManager
from issuers.dates import validate_time_zone
from issuers.encryption import EncryptedBinaryField, EncryptedTextField


class TimeStamped(models.Model):
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class Issuer(TimeStamped):
    class Kind(models.TextChoices):
        ASSOCIATION = "association", "Trade association"
        REGULATOR = "regulator", "Regulator"
        CERTIFIER = "certifier", "Certification body"
        OTHER = "other", "Other"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"

    slug = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.ASSOCIATION)
    website = models.URLField(blank=True)
    description = models.TextField(blank=True)
    public_email = models.EmailField(blank=True, help_text="Public corporate contact.")
    # Re-encoded by Pillow on upload (PNG, no metadata); never the uploaded bytes.
    logo_png = models.BinaryField(null=True, blank=True, editable=False)
    logo_version = models.PositiveIntegerField(default=0, editable=False)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    # Credentials, status lists and status tokens name the issuer by its did:web DID (and their
    # kid is a DID URL) instead of its profile URL, for verifiers that require DIDs.
    # Where a date without a time (an expiry of 2027-12-31) starts and ends (issuers.dates).
    time_zone = models.CharField(
        max_length=64,
        default="UTC",
        validators=[validate_time_zone],
        help_text="IANA time zone name; a date without a time is read in it.",
    )
    credentials_use_did = models.BooleanField(
        default=False, help_text="Sign as did:web:<host>:issuers:<slug> (kid: a DID URL)."
    )
    # The public register (/issuers/<slug>/register) lists members unless they chose otherwise
    # (Member.register_listed); an issuer whose members must opt in sets this to False.
    register_lists_members = models.BooleanField(
        default=True, help_text="Members appear in the public register unless they opt out."
    )
    # Head of the per-issuer SealEvent hash chain, moved only by seals.services.record_event
    # under a row lock on this issuer.
    chain_length = models.PositiveBigIntegerField(default=0, editable=False)
    chain_head = models.CharField(max_length=64, default="0" * 64, editable=False)

    def __str__(self) -> str:
        return self.name


class ApiKey(models.Model):
    class Scope(models.TextChoices):
        READ = "read", "Read"
        WRITE = "write", "Write"

    issuer = models.ForeignKey(Issuer, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64)
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} (ts_live_{self.prefix}_…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


def default_notice_days() -> list[int]:
    return [30, 7, 1]


class Programme(TimeStamped):
    """An issuer's seal programme; an Open Badges 3.0 Achievement."""

    class Theme(models.TextChoices):
        LIGHT = "light", "Light"
        DARK = "dark", "Dark"

    issuer = models.ForeignKey(Issuer, on_delete=models.CASCADE, related_name="programmes")
    slug = models.SlugField(max_length=60)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    criteria_url = models.URLField(blank=True)
    # Where a member renews: expiry notices link here; blank, they say "contact the issuer".
    renewal_url = models.URLField(blank=True, default="", max_length=500)
    validity_days = models.PositiveIntegerField(default=365)
    notice_days = models.JSONField(default=default_notice_days)
    theme = models.CharField(max_length=10, choices=Theme.choices, default=Theme.LIGHT)
    accent_colour = models.CharField(max_length=7, default="#1f6feb")
    wording = models.CharField(max_length=80, default="Verified member")
    # Who signs the printed certificate; blank leaves a plain line labelled with the issuer.
    signatory_name = models.CharField(max_length=120, blank=True, default="")
    signatory_title = models.CharField(max_length=120, blank=True, default="")
    is_default = models.BooleanField(default=False)

    objects = IssuerScopedManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["issuer", "slug"], name="programme_slug_per_issuer"),
            models.UniqueConstraint(
                fields=["issuer"],
                condition=models.Q(is_default=True),
                name="one_default_programme_per_issuer",
            ),
        ]

    def __str__(self) -> str:
        return self.name


IdFirstManager = IssuerScopedManager.from_queryset(IdFirstQuerySet)


# The product's five languages (settings.LANGUAGES), spelled out so a migration does not follow
# a setting; tests/issuers check the two agree.
MAIL_LANGUAGES = [
    ("en", "English"),
    ("fr", "Français"),
    ("de", "Deutsch"),
    ("es", "Español"),
    ("ar", "العربية"),
]


class Member(TimeStamped):
    # What a public seal shows of the member: a change to any of these makes its snapshots stale.
    PUBLIC_FIELDS = ("legal_name", "display_name", "domains", "country")
    # Personal data of the contact person: encrypted at rest, destroyed by an erasure.
    CONTACT_FIELDS = ("contact_name", "contact_email", "contact_phone")
    # Everything an issuer states about a member: what imports set and rectification may change.
    PROFILE_FIELDS = PUBLIC_FIELDS + CONTACT_FIELDS

    issuer = models.ForeignKey(Issuer, on_delete=models.CASCADE, related_name="members")
    external_ref = models.CharField(max_length=100, help_text="The issuer's membership number.")
    legal_name = models.CharField(max_length=300)
    display_name = models.CharField(max_length=300)
    domains = models.JSONField(default=list, blank=True, help_text="IDNA hostnames, lower-case.")
    country = models.CharField(max_length=2, blank=True)
    # Personal data: encrypted at rest; e-mail equality through the keyed hash.
    contact_name = EncryptedTextField(blank=True, default="")
    contact_email = EncryptedTextField(blank=True, default="")
    contact_email_hash = models.CharField(max_length=64, blank=True, default="", db_index=True)
    contact_phone = EncryptedTextField(blank=True, default="")
    restricted = models.BooleanField(default=False, help_text="Processing restricted (GDPR 18).")
    marketing_opt_out = models.BooleanField(default=False)
    # The member's own choice about the public register: None follows the issuer's default
    # (Issuer.register_lists_members). Restricted or erased members are never listed anyway.
    register_listed = models.BooleanField(
        null=True, blank=True, default=None, help_text="Listed in the public register."
    )
    # The language mail to the member speaks (expiry notices, announcements): one of LANGUAGES.
    language = models.CharField(max_length=5, choices=MAIL_LANGUAGES, default="en")
    erased_at = models.DateTimeField(null=True, blank=True)
    # What ?q= searches (seals.selectors.member_search_q): both names in capitals, kept by the
    # database itself. Stored so that a list walking its order tests one LIKE per row: upper-
    # casing two names per row was two thirds of such a walk's cost at 1,000,000 members. The
    # line break cannot occur in either name (issuers.text) nor in a search, so no match spans
    # the two. On PostgreSQL its statistics target is 1,000 (migration 0020 says why): a
    # migration that re-creates the column must set it again.
    search_names = models.GeneratedField(
        expression=Concat(Upper("legal_name"), models.Value("\n"), Upper("display_name")),
        output_field=models.TextField(),
        db_persist=True,
    )

    objects = IssuerScopedManager()
    # The member lists' reads (console, API): their pages are read id first (config.id_first).
    listing = IdFirstManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["issuer", "external_ref"], name="member_ref_per_issuer")
        ]
        indexes = [
            # Every order the member list offers, as the cursor pages it: (issuer, key, id).
            # external_ref needs none: member_ref_per_issuer is unique, so it is its own order.
            models.Index(fields=["issuer", "created_at", "id"], name="member_created"),
            models.Index(fields=["issuer", "updated_at", "id"], name="member_updated"),
            # The default order, covering ?q=: a search walks this index and tests each row's
            # names without reading the table, until a page of matches is found.
            models.Index(
                fields=["issuer", "display_name", "id"],
                include=["search_names"],
                name="member_name_search",
            ),
            models.Index(fields=["issuer", "legal_name", "id"], name="member_legal_name"),
            # ?q= on PostgreSQL when a word is rare: its rows straight from the trigram index.
            PostgresGinIndex(
                fields=["search_names"], opclasses=["gin_trgm_ops"], name="member_search_trgm"
            ),
            # ?domain= on PostgreSQL: JSON containment of one hostname (seals.selectors).
            PostgresGinIndex(
                fields=["domains"], opclasses=["jsonb_path_ops"], name="member_domains"
            ),
            # ?q= also matches the membership number exactly, whatever its case (iexact).
            models.Index(Upper("external_ref"), name="member_ref_upper"),
            # The public register's ?country=, in its display order (seals.selectors).
            models.Index(fields=["issuer", "country", "display_name", "id"], name="member_country"),
        ]

    def __str__(self) -> str:
        return self.display_name


class WebhookEndpoint(TimeStamped):
    issuer = models.ForeignKey(Issuer, on_delete=models.CASCADE, related_name="webhooks")
    url = models.URLField(max_length=500)
    secret = EncryptedTextField()
    event_types = models.JSONField(default=list)
    active = models.BooleanField(default=True)

    objects = IssuerScopedManager()

    def __str__(self) -> str:
        return self.url


class DeliveryManager(IssuerScopedManager["WebhookDelivery"]):
    """A delivery belongs to its issuer through its endpoint."""

    issuer_path = "endpoint__issuer"


class WebhookDelivery(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERING = "delivering", "Delivering"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event_id = models.UUIDField()
    event_type = models.CharField(max_length=40)
    payload = models.JSONField()
    state = models.CharField(max_length=12, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    response_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = DeliveryManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event_id"], name="one_delivery_per_event")
        ]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.endpoint_id} ({self.state})"


class WebhookAttempt(models.Model):
    """One POST of a delivery: the log the API lists. Deleted with its delivery (retention)."""

    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log"
    )
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField()
    response_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["delivery", "number"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="one_attempt_per_number")
        ]

    def __str__(self) -> str:
        return f"attempt {self.number} of delivery {self.delivery_id}"


class ImportJob(TimeStamped):
    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    class Mode(models.TextChoices):
        ALL_OR_NOTHING = "all_or_nothing", "All or nothing"
        PARTIAL = "partial", "Partial"

    class Phase(models.TextChoices):
        CHECK = "check", "Checking"
        WRITE = "write", "Writing"

    issuer = models.ForeignKey(Issuer, on_delete=models.CASCADE, related_name="imports")
    format = models.CharField(max_length=4)
    mode = models.CharField(max_length=20, choices=Mode.choices, default=Mode.ALL_OR_NOTHING)
    dry_run = models.BooleanField(default=False)
    state = models.CharField(max_length=12, choices=State.choices, default=State.QUEUED)
    # Holds contact details; gzip-compressed before encryption, so a worker streams it from a
    # few MB rather than holding the whole file (seals.imports).
    source = EncryptedBinaryField(null=True, editable=False)
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    seals_awarded = models.PositiveIntegerField(default=0)
    seals_renewed = models.PositiveIntegerField(default=0)
    seals_unchanged = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list)  # the first 100 of error_count (ImportRowError)
    error_count = models.PositiveIntegerField(default=0)
    # Where a run resumes: rows of the file whose ``phase`` is committed, moved in the same
    # transaction as each batch (all-or-nothing imports check every row before writing any).
    phase = models.CharField(max_length=5, choices=Phase.choices, default=Phase.CHECK)
    cursor = models.PositiveIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(default=0)  # runs started
    reason = models.TextField(blank=True, default="")  # why the job as a whole failed
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = IssuerScopedManager()

    def __str__(self) -> str:
        return f"import {self.pk} ({self.state})"


class ImportRowError(models.Model):
    """Every row error of an import (``ImportJob.errors`` holds only the first 100, for the
    job's own answer). One narrow row each, appended in the same transaction as the batch that
    found it, so a resumed run neither loses nor repeats one; a list of them pages by id.
    Deleted with the job. Messages never quote a contact's value (seals.imports)."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="row_errors")
    row = models.PositiveIntegerField()  # 0: the file as a whole
    field = models.CharField(max_length=40, blank=True, default="")
    code = models.CharField(max_length=40)
    message = models.TextField()

    class Meta:
        indexes = [models.Index(fields=["job", "id"], name="import_row_error_job_id")]

    def __str__(self) -> str:
        return f"row {self.row}: {self.message}"


class IdempotencyRecord(models.Model):
    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE)
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    response_status = models.PositiveIntegerField()
    response_body = EncryptedBinaryField()  # may quote personal data: encrypted
    response_headers = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["api_key", "key"], name="idempotency_key_per_api_key")
        ]

    def __str__(self) -> str:
        return self.key


class DataRequest(TimeStamped):
    """A data-subject request (GDPR arts. 15-21) with its one-month clock."""

    class Kind(models.TextChoices):
        ACCESS = "access", "Access"
        RECTIFICATION = "rectification", "Rectification"
        ERASURE = "erasure", "Erasure"
        RESTRICTION = "restriction", "Restriction"
        OBJECTION = "objection", "Objection"
        PORTABILITY = "portability", "Portability"

    class State(models.TextChoices):
        RECEIVED = "received", "Received"
        IN_PROGRESS = "in_progress", "In progress"
        COMPLETED = "completed", "Completed"
        REJECTED = "rejected", "Rejected"

    issuer = models.ForeignKey(Issuer, on_delete=models.CASCADE, related_name="data_requests")
    member = models.ForeignKey(
        Member, on_delete=models.SET_NULL, null=True, blank=True, related_name="data_requests"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    requester_name = EncryptedTextField(blank=True, default="")
    requester_email = EncryptedTextField(blank=True, default="")
    received_at = models.DateTimeField(default=timezone.now)
    due_at = models.DateTimeField()
    state = models.CharField(max_length=20, choices=State.choices, default=State.RECEIVED)
    outcome = models.TextField(blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    audit = models.JSONField(default=list)
    # Claimed by one conditional UPDATE each (privacy.retention), so a reminder goes out once.
    reminded_7d_at = models.DateTimeField(null=True, blank=True)
    reminded_due_at = models.DateTimeField(null=True, blank=True)
    overdue_at = models.DateTimeField(null=True, blank=True)

    objects = IssuerScopedManager()

    def __str__(self) -> str:
        return f"{self.kind} request {self.pk} ({self.state})"


class StaffRole(models.TextChoices):
    """What an issuer's people may do in the console, each role including the ones below it."""

    OWNER = "owner", "Owner"  # everything, including keys, staff and webhooks
    MANAGER = "manager", "Manager"  # members, seals, imports, programmes, data requests
    VIEWER = "viewer", "Viewer"  # read only


STAFF_ROLE_RANK = {StaffRole.VIEWER: 0, StaffRole.MANAGER: 1, StaffRole.OWNER: 2}


class StaffMember(models.Model):
    """A person who works for one issuer in the console (one issuer per user)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff"
    )
    issuer = models.ForeignKey(Issuer, on_delete=models.CASCADE, related_name="staff")
    role = models.CharField(max_length=10, choices=StaffRole.choices, default=StaffRole.VIEWER)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = IssuerScopedManager()

    def __str__(self) -> str:
        return f"{self.user} ({self.role} of {self.issuer_id})"

    def can(self, role: str) -> bool:
        """Whether this person's role includes ``role``."""
        return STAFF_ROLE_RANK[StaffRole(self.role)] >= STAFF_ROLE_RANK[StaffRole(role)]


class Invitation(models.Model):
    """An invitation to join an issuer's staff: the link's token is stored only as its hash."""

    issuer = models.ForeignKey(Issuer, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=10, choices=StaffRole.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)

    objects = IssuerScopedManager()

    def __str__(self) -> str:
        return f"invitation of {self.email} as {self.role}"


class AuditEntry(models.Model):
    """What people did to an issuer's account outside seal histories (staff, API keys,
    webhooks), and who: seal changes are in the hash-chained SealEvent history instead."""

    issuer = models.ForeignKey(Issuer, on_delete=models.CASCADE, related_name="audit_entries")
    at = models.DateTimeField(default=timezone.now)
    actor = models.CharField(max_length=100)
    action = models.CharField(max_length=40)
    target = models.CharField(max_length=300, blank=True)
    data = models.JSONField(default=dict, blank=True)

    objects = IssuerScopedManager()

    class Meta:
        indexes = [
            models.Index(fields=["issuer", "id"], name="audit_entry_order"),
            # Retention deletes by age across every issuer (privacy.retention).
            models.Index(fields=["at"], name="audit_entry_at"),
        ]

    def __str__(self) -> str:
        return f"{self.action} by {self.actor}"


class IdentityProvider(TimeStamped):
    """An issuer's own OpenID Connect identity provider, so its staff sign in to the console
    through it (console.sso). The secret is encrypted at rest; allauth sees it as a SocialApp
    built from this row, never stored in allauth's own table in clear."""

    issuer = models.OneToOneField(
        Issuer, on_delete=models.CASCADE, related_name="identity_provider"
    )
    name = models.CharField(max_length=100)  # what the sign-in button says ("Acme SSO")
    server_url = models.URLField(max_length=500)  # the issuer URL; discovery is read below it
    client_id = models.CharField(max_length=255)
    client_secret = EncryptedTextField()
    enabled = models.BooleanField(default=True)

    objects = IssuerScopedManager()

    def __str__(self) -> str:
        return self.name

    @property
    def provider_id(self) -> str:
        """allauth's provider id, in its URLs: /console/accounts/oidc/<provider_id>/login/."""
        return f"issuer-{self.issuer_id}"


class SamlIdentityProvider(TimeStamped):
    """An issuer's own SAML 2.0 identity provider, beside (or instead of) its OpenID Connect one:
    an organisation moving from one to the other keeps both for a while, and the start page
    offers each. Nothing here is secret: the IdP's certificate is public, and the product's
    service provider signs nothing (requests go unsigned, as most IdPs accept). allauth sees
    it as a SocialApp built from this row (console.sso), never kept in allauth's table."""

    issuer = models.OneToOneField(
        Issuer, on_delete=models.CASCADE, related_name="saml_identity_provider"
    )
    name = models.CharField(max_length=100)  # what the sign-in button says
    entity_id = models.CharField(max_length=500)  # the IdP's entity id, the assertions' Issuer
    sso_url = models.URLField(max_length=500)  # its HTTP-Redirect single sign-on service
    x509cert = models.TextField()  # its signing certificate, PEM
    # The attribute carrying the e-mail address; empty: allauth's standard ones, then a NameID
    # in the emailAddress format.
    email_attribute = models.CharField(max_length=255, blank=True)
    enabled = models.BooleanField(default=True)

    objects = IssuerScopedManager()

    def __str__(self) -> str:
        return self.name

    @property
    def provider_id(self) -> str:
        """allauth's provider id; the SocialAccount rows of people linked through it carry it."""
        return f"issuer-{self.issuer_id}-saml"

    @property
    def organization_slug(self) -> str:
        """The name in allauth's SAML URLs: /console/accounts/saml/<organization_slug>/acs/."""
        return f"issuer-{self.issuer_id}"
