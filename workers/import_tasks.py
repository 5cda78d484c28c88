"""Bulk import jobs (seals.imports): files over ASYNC_THRESHOLD rows run here."""

from __future__ import annotations

from celery import shared_task

from config.tenancy import issuer_scope
from issuers.models import ImportJob
from seals.imports import import_job_run
from workers.base import issuer_of


@shared_task(name="workers.import_run", acks_late=True, time_limit=900, soft_time_limit=840)
def import_run(job_id: int, actor: str) -> None:
    """Safe to deliver twice: the service claims the job with a conditional update."""
    issuer_id = issuer_of(ImportJob, job_id)
    if issuer_id is None:
        return  # deleted with its issuer: nothing to import
    with issuer_scope(issuer_id):
        import_job_run(job_id=job_id, actor=actor)
