"""PostgreSQL restarted (`pg_ctl restart -m fast`) while a dispatcher sends a large batch.

A private cluster (never the shared server) holds the check-ins. A real `send_due_checkins`
process sends through a fake Twilio; at a random point (seeded, reported) the cluster is
restarted, which cuts every connection and rolls back the open chunk. The dispatcher dies on
its next query; its leases running out is simulated by moving send_after back, and a fresh
dispatcher process finishes. Nothing may be lost and every row is recorded sent once. The texts
of the chunk that was rolled back went out; the dispatchers note each one in the send journal
on a private Redis (reminders/journal.py), so the finisher records them instead of sending them
again: none goes twice (counted and reported).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter

from tests.faults.conftest import PrivatePostgres, PrivateRedis
from tests.faults.scripted_twilio import ScriptedTwilio, sids_by_number
from tests.faults.support import (
    ROOT,
    Interrupted,
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

TRIALS = int(os.environ.get("FAULTS_PG_TRIALS", "5"))
PEOPLE = 300
BATCH = 50
SEND_DELAY = 0.002
EXTRA_DELAY = 0.03
# The dispatcher stays alive until its next query, so every text it sent is journaled.
REPEAT_LIMIT = 0


def seed(server: PrivatePostgres) -> None:
    """TRIALS x PEOPLE check-ins, due in a day: each trial makes its own due (`make_due`)."""
    env = {**os.environ, "DATABASE_URL": server.url, "LOG_LEVEL": "WARNING"}
    env.pop("REDIS_URL", None)
    env["DJANGO_SETTINGS_MODULE"] = "backpain_service.settings"
    code = (
        "import datetime as dt, django; django.setup()\n"
        "from tests.faults.rows import due_checkins\n"
        f"for prefix in range({TRIALS}):\n"
        f"    due_checkins({PEOPLE}, prefix=prefix, due_in=dt.timedelta(days=1))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr


def like(prefix: int) -> str:
    return f"+1555{prefix:03d}%"


def make_due(server: PrivatePostgres, prefix: int) -> None:
    with server.connect() as conn:
        conn.execute(
            "UPDATE reminders_checkin c SET send_after = now() - interval '1 minute', "
            "due_at = now() - interval '1 minute' FROM triage_person p "
            "WHERE p.id = c.person_id AND p.phone LIKE %s",
            [like(prefix)],
        )


def rows(server: PrivatePostgres, prefix: int) -> list[tuple[str, str, str]]:
    """(phone, status, provider_sid) of this trial's check-ins."""
    with server.connect() as conn:
        return conn.execute(
            "SELECT p.phone, c.status, c.provider_sid FROM reminders_checkin c "
            "JOIN triage_person p ON p.id = c.person_id WHERE p.phone LIKE %s",
            [like(prefix)],
        ).fetchall()


def outbound(server: PrivatePostgres, prefix: int) -> Counter[str]:
    with server.connect() as conn:
        found = conn.execute(
            "SELECT p.phone, count(*) FROM triage_message m JOIN triage_person p "
            "ON p.id = m.person_id WHERE m.direction = 'out' AND p.phone LIKE %s GROUP BY 1",
            [like(prefix)],
        ).fetchall()
    return Counter(dict(found))


def numbers(server: PrivatePostgres, ids: set[int]) -> set[str]:
    with server.connect() as conn:
        found = conn.execute(
            "SELECT p.phone FROM reminders_checkin c JOIN triage_person p ON p.id = c.person_id "
            "WHERE c.id = ANY(%s)",
            [sorted(ids)],
        ).fetchall()
    return {phone for (phone,) in found}


def expire_leases(server: PrivatePostgres) -> int:
    """The dead dispatcher's leases run out (and any claim it handed back is due again)."""
    with server.connect() as conn:
        return conn.execute(
            "UPDATE reminders_checkin SET send_after = now() - interval '1 second' "
            "WHERE status IN ('pending', 'sending') AND send_after < now() + interval '1 hour'"
        ).rowcount


def test_it_loses_no_checkin_when_postgres_restarts_mid_dispatch(
    private_postgres: PrivatePostgres, private_redis: PrivateRedis
) -> None:
    rng, seed_value = seeded_random("postgres restart")
    totals: Counter[str] = Counter()
    per_trial: list[int] = []
    seed(private_postgres)
    extra = {
        "CHECKIN_BATCH_SIZE": str(BATCH),
        "CHECKIN_LEASE_SECONDS": "10",
        "REDIS_URL": private_redis.url,
    }
    with ScriptedTwilio(delay=SEND_DELAY) as first, ScriptedTwilio() as finisher:
        first_env = dispatcher_env(database_url=private_postgres.url, twilio_url=first.url, **extra)
        finisher.shares_messages_with(first)  # one Twilio account: it lists what first took
        finisher_env = dispatcher_env(
            database_url=private_postgres.url, twilio_url=finisher.url, **extra
        )
        for trial in range(TRIALS):
            nth, delay = rng.randint(1, PEOPLE - 1), rng.uniform(0, EXTRA_DELAY)
            context = (
                f"trial {trial}, restart {delay:.3f} s after send {nth}, FAULTS_SEED={seed_value}"
            )
            process, fresh = warm_dispatcher(first_env), warm_dispatcher(finisher_env)
            try:
                journal_clear(private_redis.url)
                make_due(private_postgres, trial)
                reached = first.when_requests(nth)
                go(process)
                wait_for(
                    lambda: reached.wait(0.002) or process.poll() is not None,  # noqa: B023
                    seconds=60,
                    what=f"the dispatcher's send {nth}",
                )
                time.sleep(delay)
                private_postgres.restart()
                output, _ = process.communicate(timeout=120)
                committed = {
                    p for p, status, _ in rows(private_postgres, trial) if status == "sent"
                }
                journaled, in_flight = (
                    numbers(private_postgres, ids) for ids in journal_ids(private_redis.url)
                )
                expire_leases(private_postgres)

                go(fresh)
                fresh_output, _ = fresh.communicate(timeout=300)
                assert fresh.returncode == 0, fresh_output
            finally:
                kill(process)
                kill(fresh)
            final = rows(private_postgres, trial)
            outcome = Interrupted(
                due={phone for phone, _, _ in final},
                first=first.numbers(),
                committed=committed,
                finisher=finisher.numbers(),
                final={phone: (status, sid) for phone, status, sid in final},
                outbound=outbound(private_postgres, trial),
                sids=sids_by_number(first, finisher),
                journaled=journaled,
                in_flight=in_flight,
            )
            assert len(outcome.due) == PEOPLE
            outcome.check(
                chunk_limit=BATCH,
                repeat_limit=REPEAT_LIMIT,
                context=f"{context}\n{output[-2000:]}",
            )
            crashed = process.returncode != 0
            totals["dispatcher died"] += crashed
            totals["dispatcher finished"] += not crashed
            totals["recorded from the journal"] += len(outcome.uncommitted) - len(outcome.repeated)
            totals["duplicates"] += outcome.duplicates
            totals["texts"] += PEOPLE
            per_trial.append(outcome.duplicates)
            first.forget()
            finisher.forget()

    report(
        f"postgres restart: {TRIALS} trials x {PEOPLE} check-ins, batch {BATCH}; "
        + ", ".join(f"{k}={v}" for k, v in totals.items())
        + f"; duplicates per trial {per_trial} (max {max(per_trial)})"
    )
