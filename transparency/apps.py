"""Per-issuer Merkle transparency logs over the public, redacted form of seal events."""

from django.apps import AppConfig


class TransparencyConfig(AppConfig):
    name = "transparency"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # seals sits below the log (import-linter): it answers ``?at=`` with the evidence this
        # app supplies through a hook rather than by importing it.
        from seals.history import register_log_evidence
        from seals.log_state import register_log_state
        from transparency.evidence import log_evidence, log_state

        register_log_evidence(log_evidence)
        register_log_state(log_state)
