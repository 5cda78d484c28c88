"""The outbox handlers of the seals layer: one message, one service call (STYLE §4).

Imported by ``SealsConfig.ready``, so every process that hands off or runs messages (web,
worker, beat, tests) knows their queue and lease.
"""

from __future__ import annotations

from typing import Any

from config.tenancy import scopes_disabled
from outbox.core import handler
from outbox.models import Message
from seals import imports  # noqa: F401 - registers import.run, resumable, beside the import
from seals.render.images import PRERENDER_TOPIC, seal_images_prerender


@handler(PRERENDER_TOPIC, lease_seconds=60)
def prerender_seal_images(payload: dict[str, Any], message: Message) -> None:
    with scopes_disabled():  # public ids, read as the public image route reads them
        seal_images_prerender(public_ids=payload["public_ids"])
