"""Shared by the fault tests: dispatcher subprocesses, threads with their own connection, the seeded
random source, the at-least-once bookkeeping, and the figures printed at the end of the run.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from tests.conftest import FAKE_ACCOUNT_SID, FAKE_AUTH_TOKEN, FAKE_FROM_NUMBER

ROOT = Path(__file__).resolve().parents[2]

# Figures the tests measured (trials, kill points, duplicates); printed after the run
# (conftest.pytest_terminal_summary) and copied into docs/reliability.md by hand.
FIGURES: list[str] = []


def report(line: str) -> None:
    FIGURES.append(line)
    print(line)


def seeded_random(name: str) -> tuple[random.Random, int]:
    """A random source for one test: FAULTS_SEED replays a run, otherwise a fresh seed.

    The seed is reported with the figures and in failure messages.
    """
    raw = os.environ.get("FAULTS_SEED", "").strip()
    seed = int(raw) if raw else random.SystemRandom().randrange(1, 2**31)
    report(f"{name}: FAULTS_SEED={seed}")
    return random.Random(f"{seed}:{name}"), seed


class Background(threading.Thread):
    """Runs `target()` in a thread with its own database connection; `result()` re-raises."""

    def __init__(self, target: Callable[[], object], name: str) -> None:
        super().__init__(name=name, daemon=True)
        self._target_fn = target
        self.value: object = None
        self.error: BaseException | None = None
        self.done = threading.Event()

    def run(self) -> None:
        from django.db import connections

        try:
            self.value = self._target_fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the test by result()
            self.error = exc
        finally:
            connections.close_all()
            self.done.set()

    def result(self, timeout: float = 60) -> object:
        self.join(timeout)
        assert not self.is_alive(), f"{self.name} still running after {timeout:.0f} s"
        if self.error is not None:
            raise self.error
        return self.value


def waiting_on_a_lock() -> bool:
    """Whether some connection to the test database is waiting for a row lock right now."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return bool(cursor.fetchone()[0])


DISPATCHER_APP = "backcheck-faults-dispatcher"  # application_name of dispatcher processes


def dispatcher_connections() -> int:
    """Connections of dispatcher processes to the test database: a killed one's lingers until
    PostgreSQL notices, and a COMMIT it sent may still land meanwhile."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND application_name = %s",
            [DISPATCHER_APP],
        )
        return int(cursor.fetchone()[0])


# ---------------------------------------------------------------- dispatcher processes


def database_url(settings_dict: dict) -> str:
    """A DATABASE_URL for a Django DATABASES entry (e.g. pytest-django's test database), for
    dispatcher processes (named DISPATCHER_APP in pg_stat_activity)."""
    s = settings_dict
    user = quote(s["USER"] or "", safe="")
    password = quote(s["PASSWORD"] or "", safe="")
    userinfo = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    port = f":{s['PORT']}" if s["PORT"] else ""
    name = quote(s["NAME"], safe="")
    return f"postgres://{userinfo}{s['HOST'] or ''}{port}/{name}?application_name={DISPATCHER_APP}"


def dispatcher_env(*, database_url: str, twilio_url: str, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DEBUG": "false",
        "SMS_BACKEND": "twilio",
        "TWILIO_ACCOUNT_SID": FAKE_ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": FAKE_AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": FAKE_FROM_NUMBER,
        "TWILIO_API_URL": twilio_url,
        "TWILIO_TIMEOUT": "30",
        "CHECKIN_MAX_PER_SECOND": "0",
        "LOG_LEVEL": "WARNING",
    }
    env.pop("REDIS_URL", None)  # Postgres is all a dispatcher needs
    env.update(extra)
    return env


def start_dispatcher(env: dict[str, str]) -> subprocess.Popen[str]:
    """`manage.py send_due_checkins` in its own process (its output read after it ends)."""
    return subprocess.Popen(
        [sys.executable, "manage.py", "send_due_checkins"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


# The real command, in a process that has imported Django and the apps and then waits for a
# line on stdin: a trial's kill then lands in the pass, not in the interpreter's start-up.
_WARM = (
    "import sys, django; django.setup(); "
    "from django.core.management import call_command; "
    "import reminders.dispatch, triage.sms.twilio; "
    "sys.stdin.readline(); call_command('send_due_checkins')"
)


def warm_dispatcher(env: dict[str, str]) -> subprocess.Popen[str]:
    """`send_due_checkins`, started and waiting: write a line to its stdin to run the pass."""
    return subprocess.Popen(
        [sys.executable, "-c", _WARM],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "backpain_service.settings"},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def go(process: subprocess.Popen[str]) -> None:
    assert process.stdin is not None
    process.stdin.write("go\n")
    process.stdin.flush()


def wait_for(condition: Callable[[], bool], *, seconds: float, what: str) -> None:
    """Poll until `condition()`; a guard against hanging, not a speed requirement."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {seconds:.0f} s waiting for {what}")
        time.sleep(0.01)


def kill(process: subprocess.Popen[str]) -> str:
    """SIGKILL (no cleanup of any kind runs) and return what the process printed."""
    if process.poll() is None:
        os.kill(process.pid, signal.SIGKILL)
    output, _ = process.communicate(timeout=30)
    return output or ""


# ---------------------------------------------------------------- the send journal


def journal_ids(redis_url: str) -> tuple[set[int], set[int]]:
    """Check-ins in the send journal (reminders/journal.py) at `redis_url`: (with a sid,
    attempted without one: in flight when the worker stopped)."""
    import redis

    from reminders.journal import ATTEMPTED, PREFIX

    client = redis.Redis.from_url(redis_url)
    try:
        taken: set[int] = set()
        in_flight: set[int] = set()
        for key in client.scan_iter(match=f"{PREFIX}*"):
            value = client.get(key)
            if value is None:
                continue
            pk = int(key.rsplit(b":", 1)[1])
            sid = value.decode().partition(" ")[0]
            (in_flight if sid == ATTEMPTED else taken).add(pk)
        return taken, in_flight
    finally:
        client.close()


def journal_clear(redis_url: str) -> None:
    """Empty the PRIVATE Redis at `redis_url` (never the shared one): one trial's entries."""
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        client.flushdb()
    finally:
        client.close()


# ---------------------------------------------------------------- at-least-once bookkeeping


@dataclass
class Interrupted:
    """One dispatcher interrupted part way (killed, or its database restarted) and another that
    finished the work, with what each sent and what the rows said in between."""

    due: set[str]  # every number with a due check-in
    first: list[str]  # numbers the interrupted dispatcher POSTed, in order
    committed: set[str]  # numbers whose check-in it had recorded sent when it stopped
    finisher: list[str]  # numbers the finishing dispatcher POSTed, in order
    final: dict[str, tuple[str, str]] = field(default_factory=dict)  # number -> (status, sid)
    outbound: Counter[str] = field(default_factory=Counter)  # outbound Message rows per number
    sids: dict[str, set[str]] = field(default_factory=dict)  # sids the fakes issued per number
    # Numbers whose send the interrupted dispatcher had noted in the send journal by then,
    # with Twilio's sid...
    journaled: set[str] = field(default_factory=set)
    # ... and as attempted only: in flight when it stopped. The finisher asks Twilio for these.
    in_flight: set[str] = field(default_factory=set)

    @property
    def uncommitted(self) -> list[str]:
        return [n for n in self.first if n not in self.committed]

    @property
    def repeated(self) -> list[str]:
        """Sent by the interrupted dispatcher, but neither recorded nor in the journal."""
        return [n for n in self.uncommitted if n not in self.journaled | self.in_flight]

    @property
    def duplicates(self) -> int:
        """Numbers that got more than one POST."""
        posts = Counter(self.first) + Counter(self.finisher)
        return sum(1 for count in posts.values() if count > 1)

    def check(self, *, chunk_limit: int, context: str, repeat_limit: int | None = None) -> None:
        """Every due check-in POSTed at least once and recorded sent once; only the
        interrupted dispatcher's last, uncommitted sends can have gone twice, and of those only
        the ones not in the send journal at all: at most `repeat_limit`, the last sends. Those
        in flight (attempted, no sid) were sent again only if Twilio never took them."""
        where = f" ({context})"
        first, finisher = Counter(self.first), Counter(self.finisher)
        assert set(first.values()) <= {1}, "a dispatcher POSTed one check-in twice" + where
        assert set(finisher.values()) <= {1}, "the finisher POSTed one check-in twice" + where
        assert set(self.first) | set(self.finisher) == self.due, "a check-in never POSTed" + where
        assert self.committed <= set(self.first), "recorded sent but never POSTed" + where
        assert self.journaled <= set(self.first), "journaled but never POSTed" + where
        taken_in_flight = self.in_flight & set(self.first)
        assert set(self.finisher) == self.due - self.committed - self.journaled - taken_in_flight, (
            "the finisher must send exactly what was neither recorded sent, nor journaled, nor "
            "found at Twilio" + where
        )
        unsent = self.uncommitted
        # What was sent but not recorded is what went out after the last commit: the tail.
        assert self.first[len(self.first) - len(unsent) :] == unsent, (
            "a text sent before the last commit was not recorded" + where
        )
        assert len(unsent) <= chunk_limit, (
            f"{len(unsent)} texts uncommitted, more than one chunk ({chunk_limit})" + where
        )
        repeated = self.repeated
        assert self.duplicates == len(repeated), where
        if repeat_limit is not None:
            # Each send is journaled before the next leaves: only the last can be missing.
            assert self.first[len(self.first) - len(repeated) :] == repeated, (
                f"texts sent twice {repeated} are not the last sent" + where
            )
            assert len(repeated) <= repeat_limit, (
                f"{len(repeated)} texts sent twice, more than {repeat_limit}" + where
            )
        statuses = Counter(status for status, _ in self.final.values())
        assert set(self.final) == self.due and statuses == {"sent": len(self.due)}, (
            f"final statuses {dict(statuses)}" + where
        )
        assert all(self.outbound[n] == 1 for n in self.due), (
            "a check-in recorded as more than one outbound message" + where
        )
        wrong = [n for n, (_, sid) in self.final.items() if sid not in self.sids.get(n, ())]
        assert not wrong, f"{len(wrong)} rows carry a sid Twilio never gave that number" + where
