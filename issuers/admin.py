from typing import Any

from django.contrib import admin
from django.db import models, transaction
from django.forms import ModelForm
from django.http import HttpRequest

from issuers import services
from issuers.models import ApiKey, DataRequest, Issuer, Member, Programme, WebhookEndpoint


@admin.register(Issuer)
class IssuerAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "kind", "status", "chain_length")
    search_fields = ("name", "slug")
    readonly_fields = ("chain_length", "chain_head")
    # A website typed without a scheme is an https one (Django 6's default; silences 5.x).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def save_model(self, request: HttpRequest, obj: Issuer, form: ModelForm, change: bool) -> None:
        """A new issuer goes through ``issuer_create``, like every other way in: without its
        default programme and signing key, POST /seals and POST /imports answer 500."""
        if change:
            super().save_model(request, obj, form, change)
            return
        with transaction.atomic():
            issuer = services.issuer_create(
                slug=obj.slug,
                name=obj.name,
                kind=obj.kind,
                website=obj.website,
                public_email=obj.public_email,
            )
            # What the service does not take is set as the admin entered it.
            rest: dict[str, Any] = {"description": obj.description, "status": obj.status}
            Issuer.objects.filter(pk=issuer.pk).update(**rest)
        # The admin goes on with ``obj`` (its log entry, the redirect): make it the saved row.
        obj.pk = issuer.pk
        obj._state.adding = False
        obj._state.db = issuer._state.db
        obj.refresh_from_db()


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ("name", "issuer", "prefix", "scopes", "last_used_at", "revoked_at")
    list_filter = ("issuer",)
    # Keys are created with `manage.py createapikey` (shown once); the admin only revokes.
    readonly_fields = ("prefix", "secret_hash", "issuer", "created_at", "last_used_at")

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(Programme)
class ProgrammeAdmin(admin.ModelAdmin):
    list_display = ("name", "issuer", "validity_days", "is_default")
    list_filter = ("issuer",)


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin):
    list_display = ("display_name", "external_ref", "issuer", "country", "restricted")
    list_filter = ("issuer", "restricted")
    search_fields = ("display_name", "legal_name", "external_ref")
    exclude = ("contact_email_hash",)


admin.site.register(WebhookEndpoint)
admin.site.register(DataRequest)
