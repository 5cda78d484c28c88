"""The console speaks its user's language; the public routes keep choosing their own.

Django's ``LocaleMiddleware`` picks the language from the ``django_language`` cookie (set by the
console's language form, scoped to ``/console/`` like the session) or ``Accept-Language``, and
marks the answer ``Vary: Accept-Language``. Run on every path, it would also translate and vary
the public pages and seal images, which choose their language from ``?lang=`` alone so one URL
has one body in shared caches (``seals.i18n``). So it runs on the console's path only.

Django keeps the activated language per thread and never resets it, so a console request would
leave its language to the next request its thread serves: the console's answer deactivates
it, and any other request starts in the default language, as it did before this middleware.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.middleware.locale import LocaleMiddleware
from django.utils import translation


class ConsoleLocaleMiddleware(LocaleMiddleware):
    def process_request(self, request: HttpRequest) -> None:
        if request.path_info.startswith(settings.CONSOLE_PATH):
            super().process_request(request)
        else:
            translation.activate(settings.LANGUAGE_CODE)

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        if not request.path_info.startswith(settings.CONSOLE_PATH):
            return response
        response = super().process_response(request, response)
        translation.deactivate()
        return response
