"""Data-subject requests from the console: recorded with the one-month clock, moved along by
privacy's services with the staff user in the audit, the member's export and erasure."""

from __future__ import annotations

import json
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from issuers.models import DataRequest, Member


def test_a_manager_records_a_request_on_a_member(world, manager_client):
    received = (timezone.now() - timedelta(days=3)).date()
    response = manager_client.post(
        reverse("console:data-requests"),
        {
            "kind": "erasure",
            "member": world.member.external_ref,
            "requester_email": "ada@member.example",
            "received_on": received.isoformat(),
        },
    )
    assert response.status_code == 302
    created = DataRequest.objects.get(kind="erasure")
    assert created.member == world.member and created.received_at.date() == received
    assert created.audit[0]["actor"] == f"staff:{world.manager.user.pk}"


def test_another_issuers_member_number_is_not_found(world, manager_client):
    response = manager_client.post(
        reverse("console:data-requests"),
        {"kind": "access", "member": world.other_member.external_ref},
    )
    assert response.status_code == 400 and "No member with this number" in (
        response.content.decode()
    )
    assert DataRequest.objects.filter(issuer=world.issuer).count() == 1


def test_a_rejection_needs_reasons_and_a_closed_request_stays_closed(world, manager_client):
    path = reverse("console:data-request", args=[world.data_request.pk])
    assert manager_client.post(path, {"state": "rejected", "outcome": ""}).status_code == 400
    assert manager_client.post(path, {"state": "completed", "outcome": "Sent"}).status_code == 302
    closed = DataRequest.objects.get(pk=world.data_request.pk)
    assert closed.state == "completed" and closed.audit[-1]["actor"].startswith("staff:")
    assert manager_client.post(path, {"state": "in_progress"}).status_code == 409


def test_the_export_is_a_json_download_for_managers(world, manager_client, viewer_client):
    response = manager_client.get(reverse("console:member-export", args=[world.member.pk]))
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    assert "attachment" in response["Content-Disposition"]
    assert world.member.contact_email in json.dumps(json.loads(response.content))
    assert (
        viewer_client.get(reverse("console:member-export", args=[world.member.pk])).status_code
        == 403
    )


def test_the_export_is_also_a_zip_of_csv_files_for_managers(world, manager_client, viewer_client):
    import io
    import zipfile

    path = reverse("console:member-export-csv", args=[world.member.pk])
    response = manager_client.get(path)
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert world.member.contact_email in archive.read("member.csv").decode("utf-8-sig")
    assert viewer_client.get(path).status_code == 403


def test_erasure_asks_first_then_destroys_the_contact(world, manager_client):
    path = reverse("console:member-erase", args=[world.member.pk])
    page = manager_client.get(path)
    assert page.status_code == 200 and "cannot be undone" in page.content.decode()
    assert Member.objects.get(pk=world.member.pk).erased_at is None
    response = manager_client.post(path, {})
    assert response.status_code == 302
    member = Member.objects.get(pk=world.member.pk)
    assert member.erased_at is not None and member.contact_email == ""
    assert member.legal_name == world.member.legal_name  # corporate data kept unless asked
    again = manager_client.post(path, {})
    assert again.status_code == 409
