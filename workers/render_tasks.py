"""Seal images rendered when a seal changes, before anyone asks for them: a render on request
costs ~6 ms of CPU, and the first visitor after a change should not pay it."""

from __future__ import annotations

from celery import shared_task

from workers.base import ReliableTask


@shared_task(base=ReliableTask, name="workers.seal_images_prerender")
def seal_images_prerender_task(public_ids: list[str]) -> int:
    # Imported here: the renderer loads fonts and Pillow; other tasks should not pay for it.
    from seals.render.images import seal_images_prerender

    return seal_images_prerender(public_ids=public_ids)
