from django.apps import AppConfig


class EffectsConfig(AppConfig):
    name = "effects"

    def ready(self) -> None:
        from effects import handlers  # noqa: F401 - registers the outbox handlers
