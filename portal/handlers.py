"""The portal's outbox handler: mailing a sign-in link, off the request that asked for it."""

from __future__ import annotations

from typing import Any

from outbox.core import handler
from outbox.models import Message
from portal.services import SEND_TOPIC, sign_in_link_send

# One SMTP round trip (EMAIL_TIMEOUT); past this the peer is hung.
SEND_LEASE_SECONDS = 90


@handler(SEND_TOPIC, lease_seconds=SEND_LEASE_SECONDS)
def send_sign_in_link(payload: dict[str, Any], message: Message) -> None:
    # Not issuer-scoped: a link's members may belong to several issuers (members_of_contact).
    sign_in_link_send(link_id=payload["link_id"])
