from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Member portal"

    def ready(self) -> None:
        from portal import handlers  # noqa: F401 - registers the outbox handler
