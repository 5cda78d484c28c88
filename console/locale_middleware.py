"""The console speaks its user's language; the public routes keep choosing their own.

Django's ``LocaleMiddleware`` picks the language from the ``django_language`` cookie (set by the
console's language form, scoped to ``/console/`` like the session) or ``Accept-Language``, and
marks the answer ``Vary: Accept-Language``. Run on every path, it would also translate and vary
the public pages and seal images, which choose their language from ``?lang=`` alone so one URL
has one body in shared caches (``seals.i18n``). So it runs on the console's path only.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponseBase
from django.middleware.locale import LocaleMiddleware

CONSOLE_PREFIX = "/console/"


class ConsoleLocaleMiddleware(LocaleMiddleware):
    def process_request(self, request: HttpRequest) -> None:
        if request.path_info.startswith(CONSOLE_PREFIX):
            super().process_request(request)

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        if request.path_info.startswith(CONSOLE_PREFIX):
            return super().process_response(request, response)
        return response
