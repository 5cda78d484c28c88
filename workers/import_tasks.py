"""Bulk import jobs: files over ASYNC_THRESHOLD rows run as outbox messages (topic
``import.run``, carried out by ``workers.outbox_run`` on the ``jobs`` queue). Importing the
service here registers its handler in every worker process."""

from __future__ import annotations

from seals import imports  # noqa: F401
