"""Celery's autodiscovery imports this module; each area keeps its tasks in its own module.

Tasks are thin (STYLE §4): they take ids, load, call one service, own retries, raise on failure.
Add a line below for a new task module.
"""

from workers import (  # noqa: F401
    credential_tasks,
    import_tasks,
    misuse_tasks,
    notice_tasks,
    outbox_tasks,
    privacy_tasks,
    seal_tasks,
    stats_tasks,
    transparency_tasks,
)
