"""The production path end to end: a real Celery worker and beat, Redis, Postgres and Twilio's API.

A patient is triaged to ROUTINE, which schedules their check-ins; the first one is made due.
Beat (every second here) enqueues the dispatch task, the worker claims the row and sends it
through the real Twilio backend to a fake Twilio API run by this test. The patient must get
exactly that one text, the row must record Twilio's message id, and later passes must not send
it again. Everything runs as separate processes, as in docker-compose.yml.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import pytest
import redis
from django.db import connection
from django.utils import timezone

from reminders.models import Checkin, SendingWindow
from tests.conftest import FAKE_ACCOUNT_SID, FAKE_AUTH_TOKEN, FAKE_FROM_NUMBER
from tests.fake_twilio import FakeTwilio
from tests.scripts import ROUTINE_EN as ROUTINE
from triage.models import Message, Person
from triage.services import conversation_handle_inbound

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL: the worker reads the rows this test commits; "
        "set DATABASE_URL=postgres://…",
    ),
]

ROOT = Path(__file__).resolve().parents[2]
PATIENT = "+15551230042"
DEADLINE = 60.0  # seconds; a guard against hanging, not a speed requirement
PASS_DONE = re.compile(r"reminders\.tasks\.dispatch_due_checkins\[[^\]]+\] succeeded")


def database_url_for_subprocesses() -> str:
    """A DATABASE_URL for pytest-django's test database, for the worker process."""
    s = connection.settings_dict
    user = quote(s["USER"] or "", safe="")
    password = quote(s["PASSWORD"] or "", safe="")
    userinfo = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    port = f":{s['PORT']}" if s["PORT"] else ""
    return f"postgres://{userinfo}{s['HOST'] or ''}{port}/{quote(s['NAME'], safe='')}"


@pytest.fixture
def worker_redis_url(redis_url: str) -> Iterator[str]:
    """REDIS_URL on another database number, emptied before and after.

    The worker's broker queue, cache and rate limit then cannot meet the test session's cache
    or a task left over from an earlier run.
    """
    parts = urlsplit(redis_url)
    current = int(parts.path.strip("/") or 0)
    url = urlunsplit(parts._replace(path=f"/{15 if current != 15 else 14}"))
    client = redis.Redis.from_url(url)
    client.flushdb()
    yield url
    client.flushdb()
    client.close()


class Processes:
    """Started subprocesses with their logs; stopped (and the logs printed) at teardown."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.running: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(self, name: str, args: list[str], env: dict[str, str]) -> None:
        with (self.folder / f"{name}.log").open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "backpain_service", *args],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.running.append((name, process))

    def log(self, name: str) -> str:
        return (self.folder / f"{name}.log").read_text(errors="replace")

    def check_alive(self) -> None:
        for name, process in self.running:
            assert process.poll() is None, f"celery {name} exited ({process.returncode})"

    def stop(self) -> None:
        for _, process in self.running:
            if process.poll() is None:
                process.terminate()  # warm shutdown
        for _, process in self.running:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for name, _ in self.running:
            print(f"----- celery {name} log -----\n{self.log(name)}")


@pytest.fixture
def celery_processes(tmp_path: Path) -> Iterator[Processes]:
    processes = Processes(tmp_path)
    yield processes
    processes.stop()


def wait_until(condition: Callable[[], Any], processes: Processes, what: str) -> Any:
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        processes.check_alive()
        if result := condition():
            return result
        time.sleep(0.2)
    pytest.fail(f"gave up after {DEADLINE:.0f} s waiting for {what}")


def test_beat_and_a_worker_send_a_due_checkin_once_through_twilio(
    worker_redis_url: str, celery_processes: Processes
) -> None:
    # Open all day, so the test does not depend on the hour it runs at.
    SendingWindow.objects.update_or_create(
        pk=SendingWindow.current().pk,
        defaults={"start": dt.time(0, 0), "end": dt.time(23, 59, 59, 999999)},
    )
    for body in ROUTINE:
        conversation_handle_inbound(sid="SM" + uuid.uuid4().hex, address=PATIENT, body=body)
    person = Person.objects.get(address=PATIENT)
    plan = list(Checkin.objects.filter(person=person).order_by("due_at"))
    assert len(plan) == 2, "a routine outcome schedules two check-ins"
    first, later = plan
    past = timezone.now() - dt.timedelta(minutes=1)
    Checkin.objects.filter(pk=first.pk).update(due_at=past, send_after=past)

    with FakeTwilio(account_sid=FAKE_ACCOUNT_SID, auth_token=FAKE_AUTH_TOKEN) as fake:
        env = {
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            "DATABASE_URL": database_url_for_subprocesses(),
            "REDIS_URL": worker_redis_url,
            "DEBUG": "false",
            "SECRET_KEY": "integration-test-secret-key",
            "SMS_BACKEND": "twilio",
            "TWILIO_ACCOUNT_SID": FAKE_ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": FAKE_AUTH_TOKEN,
            "TWILIO_FROM_NUMBER": FAKE_FROM_NUMBER,
            "TWILIO_API_URL": fake.url,
            "CHECKIN_DISPATCH_INTERVAL": "1",
            # Paced through the Redis rate limiter, as in production.
            "CHECKIN_MAX_PER_SECOND": "5",
            "LOG_LEVEL": "INFO",
        }
        name = f"integration-{uuid.uuid4().hex[:8]}@%h"
        celery_processes.start(
            "worker",
            ["worker", "--loglevel", "INFO", "--concurrency", "2", "--hostname", name],
            env,
        )
        schedule = str(celery_processes.folder / "celerybeat-schedule")
        celery_processes.start("beat", ["beat", "--loglevel", "INFO", "--schedule", schedule], env)

        def sent_row() -> Checkin | None:
            row = Checkin.objects.get(pk=first.pk)
            return row if row.status == Checkin.Status.SENT else None

        row = wait_until(sent_row, celery_processes, "the check-in to be recorded as sent")
        # Three more dispatch passes complete: none may send it again.
        passes = len(PASS_DONE.findall(celery_processes.log("worker")))
        wait_until(
            lambda: len(PASS_DONE.findall(celery_processes.log("worker"))) >= passes + 3,
            celery_processes,
            "three more dispatch passes",
        )
        texts = list(fake.sent)

    assert [t["to"] for t in texts] == [PATIENT], "exactly one text, to the patient"
    assert texts[0]["from"] == FAKE_FROM_NUMBER
    assert "2 weeks" in str(texts[0]["body"])
    assert row.provider_sid == texts[0]["sid"]
    assert row.attempts == 1
    message = Message.objects.get(provider_sid=row.provider_sid)
    assert (message.direction, message.body) == (Message.Direction.OUTBOUND, texts[0]["body"])
    assert row.message_id == message.pk
    later.refresh_from_db()
    assert later.status == Checkin.Status.PENDING, "the six-week check-in is not due yet"
    assert Checkin.objects.get(pk=first.pk).status == Checkin.Status.SENT
