"""Celery tasks: beat runs `dispatch_due_checkins` every CHECKIN_DISPATCH_INTERVAL seconds; it
claims due check-ins and enqueues one `send_checkin_batch` per claimed batch, so several workers
send in parallel. Nothing is ever scheduled with a Celery ETA: the rows are the schedule.
"""

from __future__ import annotations

import logging
import uuid

from celery import shared_task
from django.db import transaction

from reminders.dispatch import Summary, dispatch_due, send_batch

log = logging.getLogger(__name__)


def _enqueue(ids: list[int], token: uuid.UUID) -> None:
    transaction.on_commit(lambda: send_checkin_batch.delay(ids, str(token)))


@shared_task
def dispatch_due_checkins() -> str:
    summary = dispatch_due(send=_enqueue)
    if summary.claimed:
        log.info("check-in dispatch: %s claimed and enqueued", summary.claimed)
    return summary.line()


@shared_task
def send_checkin_batch(ids: list[int], token: str) -> str:
    summary: Summary = send_batch(ids, token)
    log.info("check-in batch of %s: %s", len(ids), summary.line())
    return summary.line()
