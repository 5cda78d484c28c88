"""Who is signed in to the portal, decided in one place: ``member_view``.

The portal lives under the console's path (``/console/portal/``), so it shares the console's
session and CSRF cookies, scoped to ``/console/`` (docs/portal.md says why). A redeemed link
puts the contact's blind index in the session; choosing a member adds its id. Every request
checks again that the member is live and its contact is still that address, so changing or
erasing the contact ends the access at once, and runs the view in the member's issuer scope.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django_scopes import scopes_disabled

from config.tenancy import issuer_scope
from issuers.models import Issuer, Member

CONTACT_KEY = "portal_contact"
MEMBER_KEY = "portal_member"
# current_member's answer for this request: the language middleware and the view both ask.
_MEMO = "_portal_member"

View = Callable[..., HttpResponse]


class MemberRequest(HttpRequest):
    """What a portal view receives (for annotations only): the member acting, its issuer."""

    member: Member
    issuer: Issuer


def sign_in(request: HttpRequest, *, email_hash: str, member: Member | None) -> None:
    # A new session key at every sign-in, so a key planted before it (fixation) is worthless.
    request.session.cycle_key()
    _forget(request)
    request.session[CONTACT_KEY] = email_hash
    if member is None:
        request.session.pop(MEMBER_KEY, None)
    else:
        request.session[MEMBER_KEY] = member.pk


def choose(request: HttpRequest, member: Member) -> None:
    _forget(request)
    request.session[MEMBER_KEY] = member.pk


def sign_out(request: HttpRequest) -> None:
    # Only the portal's keys: a staff sign-in in the same browser shares the session.
    request.session.pop(CONTACT_KEY, None)
    request.session.pop(MEMBER_KEY, None)
    request.session.cycle_key()
    _forget(request)


def _forget(request: HttpRequest) -> None:
    request.__dict__.pop(_MEMO, None)


def contact_of(request: HttpRequest) -> str:
    value = request.session.get(CONTACT_KEY, "")
    return value if isinstance(value, str) else ""


def current_member(request: HttpRequest) -> Member | None:
    if _MEMO not in request.__dict__:
        request.__dict__[_MEMO] = _load_member(request)
    return request.__dict__[_MEMO]


def _load_member(request: HttpRequest) -> Member | None:
    email_hash = contact_of(request)
    member_id = request.session.get(MEMBER_KEY)
    if not email_hash or not isinstance(member_id, int):
        return None
    # The issuer is not known until the member is loaded: the one lookup outside a scope.
    with scopes_disabled():
        return (
            Member.objects.select_related("issuer")
            .filter(pk=member_id, contact_email_hash=email_hash, erased_at__isnull=True)
            .first()
        )


def member_view(view: View) -> View:
    """Wrap a portal view: a signed-in contact acting for one member, in its issuer's scope.
    Sets ``request.member`` and ``request.issuer``."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        member = current_member(request)
        if member is None:
            return redirect("portal:choose" if contact_of(request) else "portal:sign-in")
        request.member = member  # type: ignore[attr-defined]  # read through MemberRequest
        request.issuer = member.issuer  # type: ignore[attr-defined]
        with issuer_scope(member.issuer):
            return view(request, *args, **kwargs)

    wrapped.portal_member_view = True  # type: ignore[attr-defined]
    return wrapped
