"""The console's announcements: managers write, preview and send; viewers only read."""

from __future__ import annotations

from django.core import mail
from django.urls import reverse

from announcements.models import Announcement
from issuers.models import AuditEntry, StaffRole
from outbox import core as outbox
from outbox.models import Message
from tests.console.conftest import make_staff, signed_in


def test_a_manager_writes_previews_and_sends_an_announcement(world, manager_client):
    response = manager_client.post(
        reverse("console:announcements"),
        {"subject": "Annual meeting", "body": "On 3 May.\n\nAt <b>noon</b>.", "programme": ""},
    )
    assert response.status_code == 302
    created = Announcement.objects.exclude(pk=world.announcement.pk).get()
    assert created.status == "draft" and not mail.outbox
    assert AuditEntry.objects.filter(action="announcement.created", target="Annual meeting")

    page = manager_client.get(response["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    assert "frame-src 'self'" in page["Content-Security-Policy"]
    assert "At &lt;b&gt;noon&lt;/b&gt;." in html  # the text part, escaped on the page
    assert reverse("console:announcement-preview", args=[created.pk]) in html

    preview = manager_client.get(
        reverse("console:announcement-preview", args=[created.pk]) + "?lang=de"
    )
    assert preview.status_code == 200
    assert "<p>At &lt;b&gt;noon&lt;/b&gt;.</p>" in preview.content.decode()
    assert "Mitteilungen abbestellen" in preview.content.decode()
    csp = preview["Content-Security-Policy"]
    assert "sandbox" in csp and "script-src" not in csp and "'unsafe-inline'" not in csp
    assert preview["X-Frame-Options"] == "SAMEORIGIN"

    sent = manager_client.post(reverse("console:announcement-send", args=[created.pk]))
    assert sent.status_code == 302
    created.refresh_from_db()
    assert created.status == "sending"
    assert Message.objects.filter(topic="announcement.send", key=str(created.pk)).exists()
    outbox.drain()
    assert [m.to for m in mail.outbox] == [[world.member.contact_email]]
    counts = manager_client.get(reverse("console:announcement", args=[created.pk]))
    assert "Recipients" in counts.content.decode()
    listing = manager_client.get(reverse("console:announcements")).content.decode()
    assert "Annual meeting" in listing


def test_bad_input_shows_the_form_again_and_saves_nothing(world, manager_client):
    response = manager_client.post(
        reverse("console:announcements"), {"subject": "", "body": "x", "programme": ""}
    )
    assert response.status_code == 400
    assert Announcement.objects.count() == 1  # the world's own draft


def test_a_viewer_reads_but_cannot_write_or_send(world, viewer_client):
    page = viewer_client.get(reverse("console:announcement", args=[world.announcement.pk]))
    assert page.status_code == 200 and "Send to members" not in page.content.decode()
    assert (
        viewer_client.post(
            reverse("console:announcements"), {"subject": "S", "body": "B", "programme": ""}
        ).status_code
        == 403
    )
    send = reverse("console:announcement-send", args=[world.announcement.pk])
    assert viewer_client.post(send).status_code == 403
    world.announcement.refresh_from_db()
    assert world.announcement.status == "draft"
    assert not Message.objects.filter(topic="announcement.send").exists()
    assert Announcement.objects.count() == 1


def test_another_issuers_announcement_is_not_found(world):
    outsider = signed_in(make_staff(world.other_issuer, "o@b.example", StaffRole.OWNER))
    for name in ("console:announcement", "console:announcement-preview"):
        assert outsider.get(reverse(name, args=[world.announcement.pk])).status_code == 404
    send = reverse("console:announcement-send", args=[world.announcement.pk])
    assert outsider.post(send).status_code == 404


def test_programme_form_and_member_form_carry_the_new_settings(world, manager_client):
    programme = world.seal.programme
    form = manager_client.get(reverse("console:programme-edit", args=[programme.pk]))
    assert 'name="renewal_url"' in form.content.decode()
    member_form = manager_client.get(reverse("console:member-edit", args=[world.member.pk]))
    assert 'name="language"' in member_form.content.decode()


def test_the_member_form_sets_the_language_of_mail(world, manager_client):
    path = reverse("console:member-edit", args=[world.member.pk])
    data = {"legal_name": world.member.legal_name, "display_name": "", "language": "es"}
    assert manager_client.post(path, data).status_code == 302
    world.member.refresh_from_db()
    assert world.member.language == "es"
    data["language"] = "xx"
    assert manager_client.post(path, data).status_code == 400
