"""A dispatcher SIGKILLed part way through a pass: every check-in still goes out, once on record.

Each trial seeds PEOPLE due check-ins, runs the real `send_due_checkins` command in its own
process against PostgreSQL and a fake Twilio that records every POST, and kills it with SIGKILL
at a random point (seeded, reported): a random short delay after its K-th send arrived, K
random. The kill lands anywhere: mid-request, between sends, in a commit, in the next claim.
(Each trial's process starts during the previous trial and waits for a go, so the kill lands in
the pass, not in the interpreter's start-up.) The claims it held are left as a dead worker
leaves them; their lease running out is simulated by moving send_after back (the claim query
reads only status and send_after). A fresh dispatcher then finishes the work.

The dispatchers note each send in the send journal, on a private Redis (reminders/journal.py):
"attempted" before the POST, the sid once Twilio took it. The finisher records the dead worker's
journaled texts as sent instead of sending them again, and for the one in flight when the kill
landed (attempted, no sid) it asks Twilio: both fakes are one account, so the finisher's fake
lists the texts the first one took. The test proves no text goes twice, and counts
(docs/reliability.md, "Faults").
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import time
from collections import Counter
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from reminders.dispatch import dispatch_due
from reminders.models import Checkin
from tests.faults.conftest import PrivateRedis
from tests.faults.rows import due_checkins
from tests.faults.scripted_twilio import ScriptedTwilio, point_settings_at, sids_by_number
from tests.faults.support import (
    Interrupted,
    database_url,
    dispatcher_connections,
    dispatcher_env,
    go,
    journal_clear,
    journal_ids,
    kill,
    report,
    seeded_random,
    wait_for,
    warm_dispatcher,
)
from triage.models import Message, Person

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL (a dispatcher process shares the database); set DATABASE_URL",
    ),
]

TRIALS = int(os.environ.get("FAULTS_KILL_TRIALS", "20"))
PEOPLE = 200
BATCH = 50  # rows per claim; with no rate limit a chunk is at most this (and ~1 s of sending)
SEND_DELAY = 0.002  # the fake's answer time, so a pass takes most of a second
EXTRA_DELAY = 0.03  # longest wait after the K-th send before the kill
REPEAT_LIMIT = 0  # texts a kill may send twice: the one in flight is looked up at Twilio


def test_it_sends_every_checkin_once_on_record_after_a_worker_is_killed(
    settings: Any, private_redis: PrivateRedis
) -> None:
    rng, seed = seeded_random("killed dispatcher")
    settings.CHECKIN_MAX_PER_SECOND = 0
    settings.REDIS_URL = private_redis.url  # the finisher reads the dead worker's journal
    totals: Counter[str] = Counter()
    per_trial: list[int] = []
    with ScriptedTwilio(delay=SEND_DELAY) as first, ScriptedTwilio() as finisher:
        env = dispatcher_env(
            database_url=database_url(connection.settings_dict),
            twilio_url=first.url,
            CHECKIN_BATCH_SIZE=str(BATCH),
            CHECKIN_LEASE_SECONDS="10",
            REDIS_URL=private_redis.url,
        )
        point_settings_at(settings, finisher)
        finisher.shares_messages_with(first)  # one Twilio account: it lists what first took
        process = warm_dispatcher(env)
        try:
            for trial in range(TRIALS):
                nth, delay = rng.randint(1, PEOPLE), rng.uniform(0, EXTRA_DELAY)
                context = f"trial {trial}, kill {delay:.3f} s after send {nth}, FAULTS_SEED={seed}"
                outcome, held, finished_first = run_trial(
                    trial,
                    process,
                    first,
                    finisher,
                    nth=nth,
                    delay=delay,
                    redis_url=private_redis.url,
                )
                process = warm_dispatcher(env)  # the next trial's, starting meanwhile
                outcome.check(chunk_limit=BATCH, repeat_limit=REPEAT_LIMIT, context=context)
                if finished_first:
                    totals["finished before the kill"] += 1
                elif not outcome.committed:
                    totals["killed before its first commit"] += 1
                else:
                    totals["killed after some commits"] += 1
                totals["trials with claims left"] += bool(held)
                totals["recorded from the journal"] += len(outcome.uncommitted) - len(
                    outcome.repeated
                )
                # The text in flight at the kill, looked up at Twilio: taken, or never arrived.
                totals["in flight, found at Twilio"] += len(outcome.in_flight & set(outcome.first))
                totals["in flight, never taken"] += len(outcome.in_flight - set(outcome.first))
                totals["duplicates"] += outcome.duplicates
                totals["texts"] += len(outcome.due)
                per_trial.append(outcome.duplicates)
                Person.objects.all().delete()  # the next trial starts from empty tables
                first.forget()
                finisher.forget()
        finally:
            kill(process)

    report(
        f"killed dispatcher: {TRIALS} trials x {PEOPLE} check-ins, batch {BATCH}; "
        + ", ".join(f"{k}={v}" for k, v in totals.items())
        + f"; duplicates per trial {per_trial} (max {max(per_trial)})"
    )
    assert totals["texts"] == TRIALS * PEOPLE


def run_trial(
    trial: int,
    process: subprocess.Popen[str],
    first: ScriptedTwilio,
    finisher: ScriptedTwilio,
    *,
    nth: int,
    delay: float,
    redis_url: str,
) -> tuple[Interrupted, int, bool]:
    """Seed, run the pass, kill it after send `nth` (+ `delay`), expire its leases, finish."""
    journal_clear(redis_url)
    rows = due_checkins(PEOPLE, prefix=trial)
    reached = first.when_requests(nth)
    go(process)
    wait_for(
        lambda: reached.wait(0.002) or process.poll() is not None,
        seconds=60,
        what=f"the dispatcher's send {nth}",
    )
    time.sleep(delay)
    finished_first = process.poll() is not None
    output = kill(process)
    assert first.requests, f"the dispatcher sent nothing: {output}"
    wait_for(lambda: dispatcher_connections() == 0, seconds=60, what="the dead worker's connection")

    committed = set(
        Checkin.objects.filter(status=Checkin.Status.SENT).values_list("person__phone", flat=True)
    )
    claimed = Checkin.objects.filter(status=Checkin.Status.SENDING)
    held = claimed.count()
    taken_ids, in_flight_ids = journal_ids(redis_url)
    journaled, in_flight = (
        set(Checkin.objects.filter(id__in=ids).values_list("person__phone", flat=True))
        for ids in (taken_ids, in_flight_ids)
    )
    # The dead worker's lease runs out.
    claimed.update(send_after=timezone.now() - dt.timedelta(seconds=1))
    dispatch_due()
    outcome = Interrupted(
        due={row.person.phone for row in rows},
        first=first.numbers(),
        committed=committed,
        finisher=finisher.numbers(),
        final={
            phone: (status, sid)
            for phone, status, sid in Checkin.objects.values_list(
                "person__phone", "status", "provider_sid"
            )
        },
        outbound=Counter(
            Message.objects.filter(direction=Message.Direction.OUTBOUND).values_list(
                "person__phone", flat=True
            )
        ),
        sids=sids_by_number(first, finisher),
        journaled=journaled,
        in_flight=in_flight,
    )
    return outcome, held, finished_first
