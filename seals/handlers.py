"""The outbox handlers of the seals layer: one message, one service call (STYLE §4).

Imported by ``SealsConfig.ready``, so every process that hands off or runs messages (web,
worker, beat, tests) knows their queue and lease.
"""

from __future__ import annotations

from typing import Any

from outbox.core import handler
from outbox.models import Message
from seals.imports import import_job_run
from seals.render.images import PRERENDER_TOPIC, seal_images_prerender

IMPORT_TOPIC = "import.run"


@handler(PRERENDER_TOPIC, lease_seconds=60)
def prerender_seal_images(payload: dict[str, Any], message: Message) -> None:
    seal_images_prerender(public_ids=payload["public_ids"])


# A whole file of rows: the limits the import task always had (15 minutes), on the jobs queue
# so a job waits for a free slot, not behind a backlog of deliveries. The job claims itself
# (seals.imports), so a second run after a lost lease finds it taken and stops.
@handler(IMPORT_TOPIC, lease_seconds=900, queue="jobs")
def run_import(payload: dict[str, Any], message: Message) -> None:
    import_job_run(job_id=payload["job_id"], actor=payload["actor"])
