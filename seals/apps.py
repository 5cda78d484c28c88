from django.apps import AppConfig


class SealsConfig(AppConfig):
    name = "seals"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from seals import handlers  # noqa: F401 - registers the outbox handlers
