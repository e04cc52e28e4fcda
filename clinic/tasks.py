"""Celery tasks of the clinic app (beat entries in settings.CELERY_BEAT_SCHEDULE)."""

from __future__ import annotations
