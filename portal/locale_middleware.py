"""After sign-in the portal speaks its member's language.

Before sign-in the console's locale middleware has already chosen (the language picked on the
page, kept in a cookie scoped to ``/console/``, else ``Accept-Language``). Once a contact acts
for a member, the member's ``language`` (the one its mail speaks, set in the preferences) comes
before the browser's; a language picked on the page still wins, as it does in the console.

Runs after ``console.locale_middleware.ConsoleLocaleMiddleware``, whose answer then carries the
language chosen here in ``Content-Language`` and deactivates it.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.urls import reverse
from django.utils import translation

from portal import access


def picked_language(request: HttpRequest) -> str | None:
    """The language picked on the page's switcher, when it is one of ours."""
    code = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
    return code if code in dict(settings.LANGUAGES) else None


class PortalLanguageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.path_info.startswith(reverse("portal:home")) and not picked_language(request):
            member = access.current_member(request)
            if member is not None and member.language in dict(settings.LANGUAGES):
                translation.activate(member.language)
                request.LANGUAGE_CODE = member.language
        return self.get_response(request)
