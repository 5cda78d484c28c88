from django.contrib import admin
from django.urls import include, path

from console import (
    announcements,
    audit,
    bulk,
    data_requests,
    imports,
    keys,
    misuse_reports,
    programmes,
    seal_actions,
    signing_keys,
    sso,
    staff_views,
    stats,
    views,
    webhooks,
)

app_name = "console"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("members/", views.members, name="members"),
    path("members/new/", views.member_create, name="member-create"),
    path("members/bulk/", bulk.bulk_action, name="bulk-action"),
    path("members/<int:pk>/", views.member_detail, name="member"),
    path("members/<int:pk>/edit/", views.member_edit, name="member-edit"),
    path("members/<int:pk>/award/", seal_actions.seal_award, name="seal-award"),
    path("members/<int:pk>/export/", data_requests.member_export, name="member-export"),
    path("members/<int:pk>/export.zip", data_requests.member_export_csv, name="member-export-csv"),
    path("members/<int:pk>/erase/", data_requests.member_erase, name="member-erase"),
    path("data-requests/", data_requests.data_request_list, name="data-requests"),
    path("data-requests/<int:pk>/", data_requests.data_request_detail, name="data-request"),
    path("seals/<str:seal_id>/<slug:action>/", seal_actions.seal_action, name="seal-action"),
    path("imports/", imports.import_list, name="imports"),
    path("imports/<int:pk>/", imports.import_detail, name="import"),
    path("imports/<int:pk>/run/", imports.import_run, name="import-run"),
    path("imports/<int:pk>/errors.csv", imports.import_errors_csv, name="import-errors-csv"),
    path("programmes/", programmes.programmes, name="programmes"),
    path("programmes/new/", programmes.programme_create, name="programme-create"),
    path("programmes/<int:pk>/", programmes.programme_edit, name="programme-edit"),
    path("programmes/<int:pk>/delete/", programmes.programme_delete, name="programme-delete"),
    path("programmes/<int:pk>/logo/", programmes.issuer_logo, name="issuer-logo"),
    path("programmes/preview.<slug:fmt>", programmes.programme_preview, name="programme-preview"),
    path("announcements/", announcements.announcement_list, name="announcements"),
    path("announcements/<int:pk>/", announcements.announcement_detail, name="announcement"),
    path(
        "announcements/<int:pk>/preview.html",
        announcements.announcement_preview,
        name="announcement-preview",
    ),
    path("announcements/<int:pk>/send/", announcements.announcement_send, name="announcement-send"),
    path("stats/", stats.stats_page, name="stats"),
    path("stats.csv", stats.stats_csv, name="stats-csv"),
    path("audit/", audit.audit_log, name="audit"),
    path("misuse-reports/", misuse_reports.misuse_report_list, name="misuse-reports"),
    path("audit.csv", audit.audit_csv, name="audit-csv"),
    path("audit/account/", audit.account_log, name="account-log"),
    path("staff/", staff_views.staff_page, name="staff"),
    path("staff/<int:pk>/role/", staff_views.staff_role, name="staff-role"),
    path("staff/<int:pk>/remove/", staff_views.staff_remove, name="staff-remove"),
    path("keys/", keys.api_keys, name="keys"),
    path("keys/<int:pk>/revoke/", keys.api_key_revoke, name="key-revoke"),
    path("signing-keys/", signing_keys.signing_keys, name="signing-keys"),
    path(
        "signing-keys/<int:pk>/revoke/",
        signing_keys.signing_key_revoke,
        name="signing-key-revoke",
    ),
    path("webhooks/", webhooks.endpoints, name="webhooks"),
    path("webhooks/<int:pk>/", webhooks.endpoint_detail, name="webhook"),
    path("webhooks/<int:pk>/toggle/", webhooks.endpoint_toggle, name="webhook-toggle"),
    path("webhooks/<int:pk>/test/", webhooks.endpoint_test, name="webhook-test"),
    path("sso/", sso.sso_settings, name="sso"),
    path("sso/saml/", sso.sso_saml_settings, name="sso-saml"),
    path("sso/start/", sso.sso_start, name="sso-start"),
    path("join/<str:token>/", staff_views.join, name="join"),
]

# Outside the app namespace: allauth and the admin reverse their own unnamespaced names.
outer_urlpatterns = [
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    # Django's set_language: the choice goes in a cookie scoped to /console/ (settings).
    path("i18n/", include("django.conf.urls.i18n")),
]
