"""The staff page (owners invite, change roles, remove) and the invitation link's page."""

from __future__ import annotations

from allauth.account.adapter import get_adapter
from django.conf import settings
from django.contrib import messages
from django.core.mail import send_mail
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from config.errors import DomainError
from console.access import StaffRequest, actor_of, staff_view
from console.adapters import INVITATION_SESSION_KEY
from console.forms import InviteForm, RoleForm
from issuers import staff as staff_services
from issuers.models import Invitation, StaffMember, StaffRole


def _send_invitation(new: staff_services.NewInvitation) -> None:
    invitation = new.invitation
    link = settings.PUBLIC_BASE_URL + reverse("console:join", args=[new.token])
    context = {
        "issuer": invitation.issuer,
        "role": invitation.get_role_display(),
        "link": link,
        "expires_at": invitation.expires_at,
    }
    subject = _("You are invited to the %(issuer)s console") % {"issuer": invitation.issuer.name}
    body = render_to_string("console/email/invitation.txt", context)
    # Sent after commit (an invitation rolled back must not have been mailed), not through the
    # outbox: its payload would hold the link, and so the token that is stored only hashed. A
    # mail lost to an SMTP outage is the owner's to resend (a new invitation replaces it), as
    # allauth's own confirmation mails are sent in the request.
    transaction.on_commit(
        lambda: send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [invitation.email])
    )


def _page(request: StaffRequest, *, invite_form: InviteForm, status: int = 200) -> HttpResponse:
    people = StaffMember.objects.select_related("user").order_by("user__email")
    invitations = Invitation.objects.filter(
        accepted_at__isnull=True, expires_at__gt=timezone.now()
    ).order_by("-created_at")
    return render(
        request,
        "console/staff.html",
        {
            "people": people,
            "invitations": invitations,
            "invite_form": invite_form,
            "roles": StaffRole.choices,
            "is_owner": request.staff.can(StaffRole.OWNER),
        },
        status=status,
    )


@staff_view(write=StaffRole.OWNER)
def staff_page(request: StaffRequest) -> HttpResponse:
    form = InviteForm(request.POST or None)
    if request.method == "POST":
        if not form.is_valid():
            return _page(request, invite_form=form, status=400)
        try:
            with transaction.atomic():
                new = staff_services.staff_invite(
                    issuer=request.issuer,
                    email=form.cleaned_data["email"],
                    role=form.cleaned_data["role"],
                    invited_by=request.user,
                    actor=actor_of(request),
                )
                _send_invitation(new)
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.detail)
            return _page(request, invite_form=form, status=exc.status_code)
        messages.success(
            request,
            _("Invitation sent to %(email)s; the link is valid for 72 hours.")
            % {"email": new.invitation.email},
        )
        return redirect("console:staff")
    return _page(request, invite_form=InviteForm())


@staff_view(write=StaffRole.OWNER)
@require_POST
def staff_role(request: StaffRequest, pk: int) -> HttpResponse:
    person = get_object_or_404(StaffMember, pk=pk)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a role."))
        return redirect("console:staff")
    try:
        staff_services.staff_change_role(
            staff=person, role=form.cleaned_data["role"], actor=actor_of(request)
        )
    except DomainError as exc:
        messages.error(request, exc.detail)
        return _page(request, invite_form=InviteForm(), status=exc.status_code)
    messages.success(request, _("Role changed."))
    return redirect("console:staff")


@staff_view(write=StaffRole.OWNER)
def staff_remove(request: StaffRequest, pk: int) -> HttpResponse:
    person = get_object_or_404(StaffMember.objects.select_related("user"), pk=pk)
    if request.method != "POST":
        return render(request, "console/staff_remove.html", {"person": person})
    try:
        staff_services.staff_remove(staff=person, actor=actor_of(request))
    except DomainError as exc:
        messages.error(request, exc.detail)
        return _page(request, invite_form=InviteForm(), status=exc.status_code)
    messages.success(request, _("%(email)s was removed.") % {"email": person.user.email})
    if person.user_id == request.user.pk:
        return redirect("console:dashboard")  # they removed themselves: now a 403 there
    return redirect("console:staff")


def join(request: HttpRequest, token: str) -> HttpResponse:
    """The invitation link. Signed in: accept (POST). Not signed in: remember the invitation
    for the sign-up (which only an invitation opens, console.adapters) and offer both."""
    try:
        invitation = staff_services.invitation_for_token(token)
    except DomainError as exc:
        return render(request, "console/join.html", {"error": exc.detail}, status=404)
    here = reverse("console:join", args=[token])
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect(f"{reverse('account_login')}?{urlencode({'next': here})}")
        try:
            staff_services.invitation_accept(token=token, user=request.user)
        except DomainError as exc:
            return render(
                request,
                "console/join.html",
                {"invitation": invitation, "error": exc.detail},
                status=exc.status_code,
            )
        request.session.pop(INVITATION_SESSION_KEY, None)
        messages.success(request, _("Welcome to %(issuer)s.") % {"issuer": invitation.issuer})
        return redirect("console:dashboard")
    if not request.user.is_authenticated:
        request.session[INVITATION_SESSION_KEY] = token
        # The link reached this address's inbox: a sign-up with it needs no second mail.
        get_adapter(request).stash_verified_email(request, invitation.email)
    return render(
        request,
        "console/join.html",
        {
            "invitation": invitation,
            "next": urlencode({"next": here}),
        },
    )
