"""Several dispatchers at once, against a real PostgreSQL: every check-in is sent exactly once.

Production may run `manage.py send_due_checkins` from cron next to Celery beat, or several
workers whose passes overlap. Claims (SELECT ... FOR UPDATE SKIP LOCKED, then a compare-and-swap
UPDATE) must hand each due row to exactly one of them. SQLite serialises all writers, so this
needs Postgres (CI always has it).
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.db import connection, connections
from django.utils import timezone

from reminders.dispatch import claim_batch
from reminders.models import Checkin
from tests.conftest import FAKE_ACCOUNT_SID, FAKE_AUTH_TOKEN, FAKE_FROM_NUMBER
from tests.fake_twilio import FakeTwilio
from tests.faults.rows import due_checkins
from triage.models import Message

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL (row locks, concurrent writers); set DATABASE_URL=postgres://…",
    ),
]

ROOT = Path(__file__).resolve().parents[2]
PEOPLE = 320
DISPATCHERS = 4
BATCH = 10  # small claims, so the dispatchers take turns many times over the 320 rows


def database_url_for_subprocesses() -> str:
    """A DATABASE_URL for pytest-django's test database, for a dispatcher in another process."""
    s = connection.settings_dict
    user = quote(s["USER"] or "", safe="")
    password = quote(s["PASSWORD"] or "", safe="")
    userinfo = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    port = f":{s['PORT']}" if s["PORT"] else ""
    return f"postgres://{userinfo}{s['HOST'] or ''}{port}/{quote(s['NAME'], safe='')}"


class GatedTwilio(FakeTwilio):
    """FakeTwilio that holds every send until `open` is set, so dispatchers provably overlap."""

    def __init__(self) -> None:
        super().__init__(account_sid=FAKE_ACCOUNT_SID, auth_token=FAKE_AUTH_TOKEN)
        self.open = threading.Event()

    def _next_delay(self) -> float:
        self.open.wait(timeout=90)
        return super()._next_delay()


@pytest.fixture
def gated_twilio() -> Iterator[GatedTwilio]:
    with GatedTwilio() as fake:
        yield fake


def test_four_dispatcher_processes_send_every_checkin_exactly_once(
    gated_twilio: GatedTwilio,
) -> None:
    rows = due_checkins(PEOPLE)
    phones = {row.person.phone for row in rows}
    env = {
        **os.environ,
        "DATABASE_URL": database_url_for_subprocesses(),
        "DEBUG": "false",
        "SMS_BACKEND": "twilio",
        "TWILIO_ACCOUNT_SID": FAKE_ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": FAKE_AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": FAKE_FROM_NUMBER,
        "TWILIO_API_URL": gated_twilio.url,
        # Sends are held until every dispatcher has claimed; they must not time out meanwhile.
        "TWILIO_TIMEOUT": "120",
        "CHECKIN_BATCH_SIZE": str(BATCH),
        "CHECKIN_MAX_PER_SECOND": "0",
        "LOG_LEVEL": "WARNING",
    }
    env.pop("REDIS_URL", None)  # Postgres is all this needs
    processes = [
        subprocess.Popen(
            [sys.executable, "manage.py", "send_due_checkins"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(DISPATCHERS)
    ]
    try:
        # Each dispatcher claims a batch and blocks on its first send; once all of them hold a
        # claim at the same time, let the texts through and let them race for the rest.
        deadline = time.monotonic() + 90
        claims_at_release = 0
        while time.monotonic() < deadline and claims_at_release < DISPATCHERS:
            if any(p.poll() is not None for p in processes):
                break  # one gave up early: the assertions below say why
            time.sleep(0.05)
            claims_at_release = (
                Checkin.objects.filter(status=Checkin.Status.SENDING)
                .values("claim_token")
                .distinct()
                .count()
            )
        gated_twilio.open.set()
        outputs = [p.communicate(timeout=120)[0] for p in processes]
    finally:
        gated_twilio.open.set()
        for p in processes:
            if p.poll() is None:
                p.kill()
                p.wait()
    print(*outputs, sep="\n")

    assert [p.returncode for p in processes] == [0] * DISPATCHERS
    assert claims_at_release == DISPATCHERS, "the dispatchers never held claims at the same time"
    summaries = [
        dict(f.split("=") for f in out.strip().splitlines()[-1].split()) for out in outputs
    ]
    if any(int(s["deferred"]) for s in summaries):
        # A chunk that found a row locked by a concurrent transaction defers it for BUSY_RETRY
        # (15 s) by design; the next pass sends it. Run that pass now instead of waiting.
        deferred = Checkin.objects.filter(status=Checkin.Status.PENDING)
        deferred.update(send_after=timezone.now() - dt.timedelta(seconds=1))
        final = subprocess.run(
            [sys.executable, "manage.py", "send_due_checkins"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True,
        )  # fmt: skip
        print(final.stdout)
        last = dict(f.split("=") for f in final.stdout.strip().splitlines()[-1].split())
        summaries.append(last)
    # Every row claimed once, plus once more for each deferral.
    deferrals = sum(int(s["deferred"]) for s in summaries)
    assert sum(int(s["claimed"]) for s in summaries) == PEOPLE + deferrals
    assert sum(int(s["sent"]) for s in summaries) == PEOPLE
    assert all(int(s["claimed"]) > 0 for s in summaries[:DISPATCHERS])
    # Each person got their text once, and nobody else's.
    to = Counter(str(sent["to"]) for sent in gated_twilio.sent)
    assert set(to) == phones
    assert set(to.values()) == {1}
    assert len(gated_twilio.requests) == PEOPLE
    # Every row says sent, with the id Twilio gave that text, and one outbound Message each.
    sent = {
        row.person.phone: row
        for row in Checkin.objects.select_related("person", "message").filter(
            status=Checkin.Status.SENT
        )
    }
    assert len(sent) == PEOPLE
    sids = {str(s["to"]): str(s["sid"]) for s in gated_twilio.sent}
    assert {phone: row.provider_sid for phone, row in sent.items()} == sids
    assert all(
        row.message is not None and row.message.provider_sid == row.provider_sid
        for row in sent.values()
    )
    outbound = Message.objects.filter(direction=Message.Direction.OUTBOUND)
    assert outbound.count() == PEOPLE
    assert set(outbound.values_list("provider_sid", flat=True)) == set(sids.values())


@pytest.mark.parametrize("skip_locked", [True, False], ids=["skip-locked", "compare-and-swap"])
def test_threads_claiming_at_once_never_share_a_row(skip_locked: bool, monkeypatch: Any) -> None:
    """claim_batch in 8 threads at once: the claims are disjoint and cover every due row.

    With skip_locked=False the SELECT takes no locks and all threads see the same candidates;
    only the UPDATE's repeated condition (compare-and-swap) keeps them apart, which is the
    path a database without SKIP LOCKED takes.
    """
    rows = due_checkins(200)
    features = type(connection.features)
    monkeypatch.setattr(features, "has_select_for_update_skip_locked", skip_locked)
    barrier = threading.Barrier(8)
    claims: list[list[int]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def dispatcher() -> None:
        try:
            barrier.wait(timeout=10)
            while True:
                _, ids = claim_batch(timezone.now(), 7)
                if not ids:
                    return
                with lock:
                    claims.append(ids)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            with lock:
                errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=dispatcher) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    assert not any(t.is_alive() for t in threads), "a claim hung (deadlock?)"
    assert errors == []
    claimed = [i for ids in claims for i in ids]
    assert sorted(claimed) == sorted(row.pk for row in rows), "a row claimed twice or never"
    tokens = Checkin.objects.values_list("claim_token", flat=True)
    assert Checkin.objects.filter(status=Checkin.Status.SENDING).count() == len(rows)
    assert len(set(tokens)) == len(claims), "each claim has its own token"
