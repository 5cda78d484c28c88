"""The outbox handler that delivers an announcement, batch after batch, in its issuer's scope."""

from __future__ import annotations

from typing import Any

from announcements.models import Announcement
from announcements.services import SEND_TOPIC, announcement_run
from config.tenancy import issuer_of, issuer_scope
from outbox.core import Retry, handler, renew
from outbox.models import Message

# Longer than one batch (BATCH mails, one SMTP hand-over each); the run renews it after every
# batch, and its whole budget is the time limit.
LEASE_SECONDS = 300
TIME_LIMIT_SECONDS = 3 * 3600


@handler(SEND_TOPIC, lease_seconds=LEASE_SECONDS, time_limit=TIME_LIMIT_SECONDS)
def send_announcement(payload: dict[str, Any], message: Message) -> None:
    issuer_id = issuer_of(Announcement, payload["announcement_id"])
    if issuer_id is None:
        return  # deleted with its issuer: nothing is owed
    with issuer_scope(issuer_id):
        outcome = announcement_run(
            announcement_id=payload["announcement_id"], keep_lease=lambda: renew(message)
        )
    if outcome.retry_at is not None:
        raise Retry(at=outcome.retry_at, reason="announcement recipients wait for a retry")
