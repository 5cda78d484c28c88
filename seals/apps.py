from django.apps import AppConfig


class SealsConfig(AppConfig):
    name = "seals"
    default_auto_field = "django.db.models.BigAutoField"
