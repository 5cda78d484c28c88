from django.contrib import admin

from issuers.models import ApiKey, DataRequest, Member, Programme, WebhookEndpoint


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
