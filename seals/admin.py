from django.contrib import admin

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
