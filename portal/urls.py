from django.urls import path

from portal import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("sign-in/", views.sign_in, name="sign-in"),
    path("link/<str:token>/", views.link, name="link"),
    path("choose/", views.choose, name="choose"),
    path("sign-out/", views.sign_out, name="sign-out"),
    path("seals/<seal:seal_id>/", views.seal_detail, name="seal"),
    path("details/", views.details, name="details"),
    path("details/correction/", views.correction, name="correction"),
    path("preferences/", views.preferences, name="preferences"),
    path("data-requests/", views.data_requests, name="data-requests"),
    path("export.json", views.export, name="export"),
    path("export.zip", views.export_csv, name="export-csv"),
]
