"""Celery tasks of the clinic app (beat entries in settings.CELERY_BEAT_SCHEDULE)."""

from __future__ import annotations

from celery import shared_task


@shared_task
def notify_alerts() -> int:
    """Email and text on-call staff about due alerts (beat, and kicked after each new alert)."""
    from clinic.alerts import alerts_notify_due

    return alerts_notify_due()


@shared_task
def delete_old_transcripts() -> int:
    """Daily (beat): delete texts older than TRANSCRIPT_RETENTION_DAYS; 0 keeps everything."""
    from django.conf import settings

    from triage.privacy import transcripts_delete_older_than

    days = settings.TRANSCRIPT_RETENTION_DAYS
    return transcripts_delete_older_than(days) if days > 0 else 0
