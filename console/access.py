"""Who may see and do what in the console, decided in one place: ``staff_view``.

Every console view is wrapped by it (tests/console/test_access.py walks the URL configuration
to check), and it decides, in order:

1. signed in, else a redirect to the sign-in page (``?next=`` back here);
2. staff of an issuer (``issuers.staff.staff_of``), else 403: an account without an issuer
   (an invitation not yet accepted, a person removed) sees nothing;
3. the role: ``read`` for GET/HEAD, ``write`` for anything else (a viewer's POST is a 403
   before the view runs, so it changes nothing);
4. a second factor, where ``CONSOLE_MFA_REQUIRED_ROLES`` asks it of the person's role: without
   one they are sent to set it up (allauth then asks for it at every sign-in);
5. the view runs inside ``issuer_scope(request.issuer)``: every lookup of an issuer-owned model
   sees only that issuer's rows, so another issuer's id is a 404, never a 403.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from config.tenancy import issuer_scope
from issuers.models import Issuer, StaffMember, StaffRole
from issuers.staff import staff_of

if TYPE_CHECKING:
    from django.contrib.auth.models import User

SAFE_METHODS = ("GET", "HEAD")


class StaffRequest(HttpRequest):
    """What a console view receives: ``staff_view`` sets who is asking and for which issuer.
    For annotations only (the request is Django's own), as django-stubs suggests."""

    user: User  # signed in: staff_view has checked it
    staff: StaffMember
    issuer: Issuer


View = Callable[..., HttpResponse]


def staff_view(
    *, read: StaffRole = StaffRole.VIEWER, write: StaffRole = StaffRole.MANAGER
) -> Callable[[View], View]:
    """Wrap a console view: sign-in, staff, role for the method, then the issuer's scope.
    Sets ``request.staff`` and ``request.issuer``."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            staff = staff_of(request.user)
            if staff is None:
                raise PermissionDenied("You are not on the staff of any issuer.")
            needed = read if request.method in SAFE_METHODS else write
            if not staff.can(needed):
                raise PermissionDenied(f"This needs the {needed.label.lower()} role.")
            if staff.role in settings.CONSOLE_MFA_REQUIRED_ROLES and not _has_second_factor(
                request.user
            ):
                messages.warning(
                    request, _("Your role needs a second factor: set one up to continue.")
                )
                return redirect("mfa_index")
            request.staff = staff  # type: ignore[attr-defined]  # read through StaffRequest
            request.issuer = staff.issuer  # type: ignore[attr-defined]
            with issuer_scope(staff.issuer):
                return view(request, *args, **kwargs)

        wrapped.console_roles = (read, write)  # type: ignore[attr-defined]
        return wrapped

    return decorate


def _has_second_factor(user: Any) -> bool:
    from allauth.mfa.models import Authenticator

    # Recovery codes alone are a fallback, not a factor.
    return (
        Authenticator.objects.filter(user=user)
        .exclude(type=Authenticator.Type.RECOVERY_CODES)
        .exists()
    )


def actor_of(request: HttpRequest) -> str:
    """Who did it, as seal histories record it: the staff user by id. Not the e-mail: the
    hashed history is append-only and kept for ever, and an address is personal data that
    must stay erasable; the console shows the address next to the id (console.actors)."""
    return f"staff:{request.user.pk}"
