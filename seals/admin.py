from typing import Any

from django.contrib import admin
from django.db import models, transaction
from django.forms import ModelForm
from django.http import HttpRequest

from issuers.models import Issuer
from seals import registry
from seals.models import Notice, Seal, SealEvent, SigningKey


@admin.register(Seal)
class SealAdmin(admin.ModelAdmin):
    list_display = ("public_id", "member", "programme", "status", "valid_from", "expires_at")
    list_filter = ("status", "issuer")
    search_fields = ("public_id", "member__display_name")
    # Status changes go through seals.services so every change is in the hash chain.
    readonly_fields = [f.name for f in Seal._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(SealEvent)
class SealEventAdmin(admin.ModelAdmin):
    list_display = ("issuer", "seq", "seal", "kind", "actor", "occurred_at")
    list_filter = ("issuer", "kind")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(SigningKey)
class SigningKeyAdmin(admin.ModelAdmin):
    list_display = ("issuer", "key_id", "algorithm", "state", "created_at")
    exclude = ("private_key_encrypted",)


admin.site.register(Notice)


# The issuer's admin lives with the seals: adding an issuer creates its signing key.
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
            # Signing as the DID goes through its service, which re-signs the status lists.
            use_did = obj.credentials_use_did
            if "credentials_use_did" in form.changed_data:
                obj.credentials_use_did = not use_did
            super().save_model(request, obj, form, change)
            registry.issuer_credentials_use_did_set(issuer=obj, enabled=use_did)
            return
        with transaction.atomic():
            issuer = registry.issuer_create(
                slug=obj.slug,
                name=obj.name,
                kind=obj.kind,
                website=obj.website,
                public_email=obj.public_email,
            )
            # What the service does not take is set as the admin entered it.
            rest: dict[str, Any] = {
                "description": obj.description,
                "status": obj.status,
                "time_zone": obj.time_zone,
            }
            Issuer.objects.filter(pk=issuer.pk).update(**rest)
        # The admin goes on with ``obj`` (its log entry, the redirect): make it the saved row.
        obj.pk = issuer.pk
        obj._state.adding = False
        obj._state.db = issuer._state.db
        obj.refresh_from_db()
