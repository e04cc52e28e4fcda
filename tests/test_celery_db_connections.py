"""Celery workers keep their database connection between tasks (backpain_service/celery.py).

Celery's Django fix-up used to close it around every task, so each batch of check-ins opened a
new PostgreSQL connection; with CELERY_DB_REUSE_MAX it leaves it open, and the project's
task_prerun/task_postrun handlers retire it as Django does between requests. The fix-up is
only installed by a running worker, so these tests drive it and the signals the way a worker
does, around a task that is not eager.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from celery import signals
from celery.fixups.django import DjangoWorkerFixup
from django.db import connection

from backpain_service.celery import app
from reminders.tasks import dispatch_due_checkins, send_checkin_batch

# Outside a transaction, as in a worker (a test transaction would make every connection look
# left outside autocommit, which Django closes).
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def closes(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[float]]:
    """Times the default connection was closed during the test."""
    closed: list[float] = []
    close = connection.close

    def counted_close() -> None:
        closed.append(time.monotonic())
        close()

    monkeypatch.setattr(connection, "close", counted_close)
    yield closed


def run_worker_task(fixup: DjangoWorkerFixup) -> None:
    """What a worker does around one task: signals (the fix-up's handlers and the project's)
    and a query."""
    task = send_checkin_batch
    assert not task.request.is_eager
    fixup.on_task_prerun(sender=task)
    signals.task_prerun.send(sender=task, task_id="t", task=task, args=(), kwargs={})
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    fixup.on_task_postrun(sender=task)
    signals.task_postrun.send(sender=task, task_id="t", task=task, args=(), kwargs={})


def fresh_connection(*, max_age: float) -> None:
    connection.ensure_connection()
    # As CONN_MAX_AGE does at connect (production's PostgreSQL URL sets 60 s; SQLite, 0).
    connection.close_at = time.monotonic() + max_age


def test_the_worker_fixup_reads_the_reuse_setting() -> None:
    assert DjangoWorkerFixup(app).db_reuse_max == 1000


def test_it_keeps_a_young_connection_across_tasks(closes: list[float]) -> None:
    fixup = DjangoWorkerFixup(app)
    fresh_connection(max_age=60)
    for _ in range(5):
        run_worker_task(fixup)
    assert closes == []


def test_it_retires_a_connection_older_than_conn_max_age(closes: list[float]) -> None:
    fixup = DjangoWorkerFixup(app)
    fresh_connection(max_age=60)
    run_worker_task(fixup)
    connection.close_at = time.monotonic() - 1
    run_worker_task(fixup)
    assert len(closes) >= 1


def test_it_retires_a_connection_that_failed_and_no_longer_works(
    closes: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    # After a PostgreSQL restart: the query failed, and the connection does not answer.
    fixup = DjangoWorkerFixup(app)
    fresh_connection(max_age=60)
    run_worker_task(fixup)
    connection.errors_occurred = True
    monkeypatch.setattr(connection, "is_usable", lambda: False)
    run_worker_task(fixup)
    assert len(closes) >= 1


def test_it_replaces_the_connection_every_reuse_max_tasks(closes: list[float]) -> None:
    fixup = DjangoWorkerFixup(app)
    fixup.db_reuse_max = 3
    fresh_connection(max_age=3600)
    for _ in range(3):
        run_worker_task(fixup)
    assert closes == []
    run_worker_task(fixup)
    assert len(closes) == 1


def test_an_inline_task_leaves_the_callers_connection_alone(
    closes: list[float], settings: Any
) -> None:
    # Tests and the embedded dev worker run tasks eagerly, inside the caller's transaction.
    fresh_connection(max_age=0)
    dispatch_due_checkins.delay()
    assert closes == []
