from django.apps import AppConfig


class AnnouncementsConfig(AppConfig):
    name = "announcements"

    def ready(self) -> None:
        from announcements import handlers  # noqa: F401 - registers the outbox handler
        from announcements.selectors import member_announcements
        from privacy import export_sections

        export_sections.register("announcements", member_announcements)
