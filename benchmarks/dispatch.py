"""Check-in dispatch benchmark: the in-process dispatcher against a zero-latency fake Twilio.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/backcheck_bench \\
        .venv/bin/python -m benchmarks.dispatch [--count 100000] [--sample 5000]

benchmarks/README.md explains it in full. In short, in one process (plus the fake Twilio,
benchmarks/fake_twilio.py, in a child process):

1.  Drops and re-creates the PostgreSQL database named in DATABASE_URL (its name must contain
    "bench", so a real database is never touched), migrates it, and drops it at the end
    unless --keep-db.
2.  Configures Django itself: SMS_BACKEND=twilio with TWILIO_API_URL at the fake (checked to
    be 127.0.0.1, so the real Twilio is never reached), CHECKIN_MAX_PER_SECOND=0, no Redis.
3.  Each run starts from freshly loaded tables (COPY): N people with an active conversation,
    four earlier texts and one due check-in each; the sending window covers the whole day,
    the quiet-hours check still runs per row. Runs: raw `send_sms` calls with the same
    recipients and bodies and no database (the baseline, first and last); dispatch_due() --
    what `manage.py send_due_checkins` runs -- with the twilio backend for each
    --batch-sizes value (the first over --count rows, the others over --sample); and
    dispatch_due() with the locmem backend (database and Python cost only).
4.  Checks every run sent each check-in exactly once (rows, Message rows and sids, the fake's
    count per number), then prints the figures and writes them to docs/benchmarks.md between
    the dispatch:begin/end markers (unless --no-docs).

Instruments: wall time, time inside the SMS backend, every SQL statement counted and timed by
kind (connection.execute_wrapper), COMMIT time, per-batch time, and CPU time of this process,
its Postgres backend (/proc), the fake and the rest of the machine (/proc/stat).

--profile N prints a cProfile of one dispatcher pass over N rows instead.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import resource
import shlex
import subprocess
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from benchmarks.fake_twilio import FakeTwilioProcess

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "benchmarks.md"
ACCOUNT_SID = "AC" + "be7c4" * 6 + "00"
AUTH_TOKEN = "benchmark-only-token"
FROM_NUMBER = "+15005550006"
TWILIO_BACKEND = "triage.sms.twilio.TwilioBackend"
LOCMEM_BACKEND = "triage.sms.locmem.LocmemBackend"
BEGIN_MARK = "<!-- dispatch:begin (written by benchmarks/dispatch.py) -->"
END_MARK = "<!-- dispatch:end -->"
HISTORY_SID = "SMhistory"
HISTORY = (  # per person, before the benchmark: (direction, body, status)
    ("in", "my upper back hurts", "received"),
    ("out", "Thanks. Any numbness or weakness in your legs?", "replied"),
    ("in", "no", "received"),
    ("out", "Self-care advice: keep moving, heat, simple pain relief.", "replied"),
)
# US area codes in four zones, plus UK mobiles (every tenth person) for the _gb texts.
US_AREAS = ("212", "312", "303", "415", "617", "713", "206", "404")


# ---------------------------------------------------------------- set-up before Django


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.dispatch",
        description="Benchmark the check-in dispatcher against a local fake Twilio.",
    )
    parser.add_argument(
        "--count",
        type=int,
        default=100_000,
        help="check-ins in the main run (twilio backend, the first batch size); default 100000",
    )
    parser.add_argument(
        "--sample",
        type=int,
        default=5_000,
        help="check-ins or sends in every other run (baselines, other batch sizes, locmem); "
        "capped at --count; 0 means --count (default 5000)",
    )
    parser.add_argument(
        "--batch-sizes",
        default="100,500",
        help="comma-separated CHECKIN_BATCH_SIZE values for the twilio runs; the first is the "
        "main run (default 100,500; 100 is the setting's default)",
    )
    parser.add_argument(
        "--locmem-batch-size",
        type=int,
        default=100,
        help="CHECKIN_BATCH_SIZE of the locmem (DB-only) run; 0 skips it",
    )
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=0.0,
        help="make the fake Twilio answer each message after this many ms (default 0)",
    )
    parser.add_argument("--keep-db", action="store_true", help="do not drop the database after")
    parser.add_argument("--no-docs", action="store_true", help="do not write docs/benchmarks.md")
    parser.add_argument(
        "--profile", type=int, default=0, metavar="N", help="cProfile a pass of N rows and stop"
    )
    parser.add_argument(
        "--profile-backend",
        choices=("twilio", "locmem"),
        default="twilio",
        help="SMS backend of the --profile pass",
    )
    args = parser.parse_args(argv)
    args.batch_sizes = [int(s) for s in args.batch_sizes.split(",") if s.strip()]
    if args.count < 1 or not args.batch_sizes or min(args.batch_sizes) < 1:
        parser.error("--count and every batch size must be at least 1")
    if args.sample < 0:
        parser.error("--sample must be 0 or more")
    args.sample = min(args.sample or args.count, args.count)
    return args


def database_name(url: str) -> tuple[str, dict[str, str]]:
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql", "pgsql"):
        sys.exit("DATABASE_URL must be a postgres:// URL (the dispatcher's claim needs Postgres)")
    name = parts.path.lstrip("/")
    if "bench" not in name:
        sys.exit(
            f"refusing to use database {name!r}: this benchmark drops and re-creates it, so its "
            "name must contain 'bench' (e.g. postgres://postgres@127.0.0.1:5432/backcheck_bench)"
        )
    params = {
        "host": parts.hostname or "",
        "port": str(parts.port or ""),
        "user": parts.username or "",
        "password": parts.password or "",
    }
    return name, {k: v for k, v in params.items() if v}


def recreate_database(name: str, params: dict[str, str], *, drop_only: bool = False) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(dbname="postgres", autocommit=True, **params) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        if not drop_only:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def configure_environment(fake_url: str) -> None:
    for name in (
        "REDIS_URL",
        "TWILIO_MESSAGING_SERVICE_SID",
        "TWILIO_EDGE",
        "TWILIO_REGION",
        "TWILIO_TIMEOUT",
        "DEBUG",
    ):
        os.environ.pop(name, None)
    os.environ.update(
        DJANGO_SETTINGS_MODULE="backpain_service.settings",
        SECRET_KEY="benchmark-only-insecure-secret-key",
        SMS_BACKEND="twilio",
        TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        TWILIO_FROM_NUMBER=FROM_NUMBER,
        TWILIO_API_URL=fake_url,
        # Production sets this; it adds StatusCallback to every request.
        TWILIO_WEBHOOK_BASE_URL="https://backcheck.example",
        CHECKIN_MAX_PER_SECOND="0",
        LOG_LEVEL="WARNING",
    )


# ---------------------------------------------------------------- the data set


@dataclass(frozen=True)
class Recipient:
    phone: str
    country: str
    language: str


def recipient(i: int) -> Recipient:
    if i % 10 == 9:
        return Recipient(f"+4477{i:08d}", "GB", "en")
    area = US_AREAS[i % len(US_AREAS)]
    return Recipient(f"+1{area}{2_000_000 + i:07d}", "US", "es" if i % 5 == 3 else "en")


def _copy_text(value: object) -> str:
    """One value in COPY's text format (the values here never hold tabs or newlines)."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if hasattr(value, "obj"):  # psycopg's Json/Jsonb wrapper, from a JSONField
        value = json.dumps(value.obj)
    return str(value).replace("\\", "\\\\")


def copy_rows(model, varying: list[str], rows, now: dt.datetime) -> None:
    """COPY rows into `model`'s table: `varying` columns from `rows` (tuples of values already
    in COPY text form), every other column its model default (auto_now fields: `now`). A NOT
    NULL column without a default is an error, so a new required field shows up here."""
    from django.db import connection

    fields = {f.attname: f for f in model._meta.concrete_fields}
    constants: dict[str, str] = {}
    for attname, f in fields.items():
        if attname in varying or (f.primary_key and f.db_returning):
            continue  # given, or an identity column the database numbers
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            value = now
        else:
            value = f.get_default()  # "" for a text field without a default
        if value is None and not f.null:
            raise RuntimeError(f"{model.__name__}.{attname} needs a value in the benchmark data")
        constants[attname] = _copy_text(f.get_db_prep_save(value, connection))
    names = [*varying, *constants]
    columns = ", ".join(connection.ops.quote_name(fields[n].column) for n in names)
    tail = "".join("\t" + value for value in constants.values()) + "\n"
    statement = f"COPY {connection.ops.quote_name(model._meta.db_table)} ({columns}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        buffer: list[str] = []
        for row in rows:
            buffer.append("\t".join(row) + tail)
            if len(buffer) == 5000:
                copy.write("".join(buffer))
                buffer.clear()
        copy.write("".join(buffer))


def load_data(count: int) -> None:
    """Empty the tables the dispatcher touches and load `count` people, each with an active
    conversation (four earlier texts in triage_message) and one due check-in (ids 1..count;
    send_after spread over the last hour, not in id order)."""
    from django.core.management.color import no_style
    from django.db import connection, transaction
    from django.utils import timezone

    from reminders.models import Checkin, CheckinStep
    from triage.models import Conversation, Message, Person

    now = timezone.now()
    start = now - dt.timedelta(seconds=3600)
    steps = list(CheckinStep.objects.filter(active=True).order_by("tier", "offset_days"))
    rows = []
    for i in range(count):
        step = steps[i % len(steps)]
        # A permutation of the last hour: distinct times, not in id order.
        due = start + dt.timedelta(seconds=3000 * ((i * 7919) % count) / count)
        rows.append(
            (str(i + 1), recipient(i), step, due.isoformat(), (due - step.offset).isoformat())
        )
    tables = [m._meta.db_table for m in (Checkin, Message, Conversation, Person)]
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
        copy_rows(
            Person,
            ["id", "address", "phone", "country", "language"],
            ((pk, r.phone, r.phone, r.country, r.language) for pk, r, _, _, _ in rows),
            now,
        )
        copy_rows(
            Conversation,
            ["id", "person_id", "tier", "language", "outcome_at"],
            ((pk, pk, str(s.tier), r.language, outcome) for pk, r, s, _, outcome in rows),
            now,
        )
        # The triage texts that led to each outcome. Besides realism this matters for the
        # figures: a session that first checks the Checkin.message foreign key while
        # triage_message is nearly empty caches a sequential-scan plan for that check, and
        # without autovacuum nothing replans it, so every COMMIT grows with the table.
        copy_rows(
            Message,
            [
                "person_id",
                "conversation_id",
                "direction",
                "address",
                "body",
                "provider_sid",
                "status",
            ],
            (
                (pk, pk, direction, r.phone, body, f"{HISTORY_SID}{pk}x{n}", status)
                for pk, r, _, _, _ in rows
                for n, (direction, body, status) in enumerate(HISTORY)
            ),
            now,
        )
        copy_rows(
            Checkin,
            [
                "id",
                "person_id",
                "conversation_id",
                "step_id",
                "tier",
                "kind",
                "message_key",
                "due_at",
                "send_after",
            ],
            (
                (pk, pk, pk, str(s.pk), str(s.tier), s.kind, s.message_key, due, due)
                for pk, _, s, due, _ in rows
            ),
            now,
        )
        with connection.cursor() as cursor:
            for statement in connection.ops.sequence_reset_sql(
                no_style(), [Person, Conversation, Checkin, Message]
            ):
                cursor.execute(statement)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {', '.join(tables)}")


def open_sending_window() -> None:
    from reminders.models import SendingWindow

    window = SendingWindow.current()
    window.start, window.end = dt.time(0, 0), dt.time(23, 59, 59, 999_999)
    window.save()


def expected_sends(count: int) -> list[tuple[str, str]]:
    """(to, body) per check-in, as the dispatcher renders them: the raw-send baseline's input."""
    from dataclasses import replace

    from reminders.models import CheckinStep
    from triage.conversation import UK_REGIONS
    from triage.selectors import content_load

    content = content_load()
    steps = list(CheckinStep.objects.filter(active=True).order_by("tier", "offset_days"))
    sends = []
    for i in range(count):
        r = recipient(i)
        key = steps[i % len(steps)].message_key
        body = replace(content, uk=r.country in UK_REGIONS).text(key, r.language)
        sends.append((r.phone, body))
    return sends


# ---------------------------------------------------------------- instruments


def _postgres_cpu(pid: int | None) -> float | None:
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None  # Postgres is not on this machine
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _machine_busy() -> float | None:
    """CPU seconds the whole machine spent not idle (all CPUs), from /proc/stat."""
    try:
        ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except OSError:
        return None
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)  # idle + iowait
    return (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")


@dataclass
class Cpu:
    """CPU seconds: this process, its Postgres backend, the fake, and everything else."""

    app: float
    postgres: float | None
    fake: float
    machine: float | None

    @classmethod
    def now(cls, fake: FakeTwilioProcess, pg_pid: int | None) -> Cpu:
        return cls(_own_cpu(), _postgres_cpu(pg_pid), fake.stats()["cpu"], _machine_busy())

    def __sub__(self, other: Cpu) -> Cpu:
        def minus(a: float | None, b: float | None) -> float | None:
            return None if a is None or b is None else a - b

        return Cpu(
            self.app - other.app,
            minus(self.postgres, other.postgres),
            self.fake - other.fake,
            minus(self.machine, other.machine),
        )

    @property
    def others(self) -> float | None:
        """Busy CPU not accounted for by the three processes (other work on the machine, and
        kernel time such as softirqs): high values mean the figures are disturbed."""
        if self.machine is None:
            return None
        return max(0.0, self.machine - self.app - (self.postgres or 0.0) - self.fake)


_TABLE = re.compile(r'(?:FROM|INTO|UPDATE)\s+"?(\w+)"?', re.IGNORECASE)


def query_kind(sql: str) -> str:
    """A short name for a statement: the dispatcher's own by role, anything else by shape."""
    verb = sql.lstrip().split(None, 1)[0].upper()
    table = (m.group(1) if (m := _TABLE.search(sql)) else "?").split("_", 1)[-1]
    locks = "FOR UPDATE" in sql
    if table == "checkin":
        if verb == "SELECT" and locks:
            return "lock chunk rows + people" if " JOIN " in sql else "claim: pick ids"
        if verb == "SELECT" and '"claim_token" =' in sql:
            return "claim: read back"
        if verb == "SELECT" and "MAX(" in sql:
            return "chunk: newest due per episode"
        if verb == "WITH" and "VALUES" in sql:
            return "chunk: save sent rows"
        if verb == "UPDATE" and re.search(r"\bCASE\b", sql):
            return "chunk: bulk_update"
        if verb == "UPDATE" and '"claimed_at" =' in sql:
            return "claim: mark sending"
        if verb == "UPDATE":
            return "release leftovers"
    if table == "message" and verb == "INSERT":
        return "chunk: insert messages"
    return f"{verb} {table}" + (" [for update]" if locks else "")


@dataclass
class QueryStats:
    """An execute_wrapper: counts and times each statement by kind, and marks batches."""

    count: int = 0
    seconds: float = 0.0
    by_kind: Counter[str] = field(default_factory=Counter)
    seconds_by_kind: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    claim_starts: list[float] = field(default_factory=list)
    last_batch: list[str] = field(default_factory=list)
    _current_batch: list[str] = field(default_factory=list)

    def __call__(self, execute, sql, params, many, context):
        kind = query_kind(sql)
        if kind == "claim: pick ids":  # claim_batch starts a batch
            self.claim_starts.append(time.perf_counter())
            if self._current_batch:
                self.last_batch = self._current_batch
            self._current_batch = []
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            elapsed = time.perf_counter() - started
            self.count += 1
            self.seconds += elapsed
            self.by_kind[kind] += 1
            self.seconds_by_kind[kind] += elapsed
            self._current_batch.append(f"{kind} ({elapsed * 1000:.1f} ms)")


class TimedCommits:
    """Times connection.commit(): deferred foreign-key checks run there, unseen by
    execute_wrapper, and transaction.atomic calls it for each claim and each chunk."""

    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0

    def __enter__(self) -> TimedCommits:
        from django.db import connection

        self.connection = connection
        inner = connection.commit

        def commit() -> None:
            started = time.perf_counter()
            try:
                inner()
            finally:
                self.count += 1
                self.seconds += time.perf_counter() - started

        connection.commit = commit  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        del self.connection.commit


class TimedBackend:
    """Wraps the SMS backend instance's send to total the time spent inside it."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def __enter__(self) -> TimedBackend:
        from triage.sms import get_backend

        self.backend = get_backend()
        inner = self.backend.send

        def send(to: str, body: str) -> str:
            started = time.perf_counter()
            try:
                return inner(to, body)
            finally:
                self.seconds += time.perf_counter() - started

        self.backend.send = send  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        del self.backend.send


@dataclass
class Result:
    label: str
    backend: str
    batch_size: int | None
    count: int
    wall: float
    sms_seconds: float
    cpu: Cpu
    commits: TimedCommits | None = None
    queries: QueryStats | None = None
    batch_seconds: list[float] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.count / self.wall

    @property
    def batches(self) -> int:
        return len(self.batch_seconds)


# ---------------------------------------------------------------- runs


def run_raw_sends(sends: list[tuple[str, str]], fake: FakeTwilioProcess, pg_pid: int) -> Result:
    from django.test.utils import override_settings

    from triage.sms import send_sms

    settle()
    fake.reset()
    with override_settings(SMS_BACKEND_CLASS=TWILIO_BACKEND), TimedBackend() as timed:
        before = Cpu.now(fake, pg_pid)
        started = time.perf_counter()
        for to, body in sends:
            send_sms(to, body)
        wall = time.perf_counter() - started
        cpu = Cpu.now(fake, pg_pid) - before
    stats = fake.stats()
    result = Result(
        label="raw sends (baseline)",
        backend="twilio",
        batch_size=None,
        count=len(sends),
        wall=wall,
        sms_seconds=timed.seconds,
        cpu=cpu,
    )
    ok = stats["created"] == len(sends) and stats["duplicates"] == 0 and not stats["rejected"]
    result.checks.append(
        f"fake: {stats['created']} created, {stats['duplicates']} duplicates, "
        f"{stats['rejected']} rejected -> {'ok' if ok else 'MISMATCH'}"
    )
    if not ok:
        raise SystemExit(f"raw-send baseline did not send exactly once: {stats}")
    return result


def run_dispatcher(
    count: int, backend: str, batch_size: int, fake: FakeTwilioProcess, pg_pid: int
) -> Result:
    from django.db import connection
    from django.test.utils import override_settings

    from reminders.dispatch import dispatch_due
    from reminders.quiet_hours import zones_for_number
    from triage.sms import locmem

    load_data(count)
    # A worker meets each number rarely (one check-in every few days): start cold.
    zones_for_number.cache_clear()
    locmem.outbox.clear()
    settle()
    fake.reset()
    queries = QueryStats()
    with (
        override_settings(SMS_BACKEND_CLASS=backend, CHECKIN_BATCH_SIZE=batch_size),
        TimedBackend() as timed,
        TimedCommits() as commits,
        connection.execute_wrapper(queries),
    ):
        before = Cpu.now(fake, pg_pid)
        started = time.perf_counter()
        summary = dispatch_due()
        finished = time.perf_counter()
        cpu = Cpu.now(fake, pg_pid) - before
    stats = fake.stats()
    edges = [*queries.claim_starts, finished]
    # A final claim that found nothing (the last batch was full) is not a batch.
    batches = -(-count // batch_size)
    batch_seconds = [b - a for a, b in zip(edges, edges[1:], strict=False)][:batches]
    name = "twilio" if backend == TWILIO_BACKEND else "locmem"
    result = Result(
        label=f"dispatcher, {name}",
        backend=name,
        batch_size=batch_size,
        count=count,
        wall=finished - started,
        sms_seconds=timed.seconds,
        cpu=cpu,
        commits=commits,
        queries=queries,
        batch_seconds=batch_seconds,
    )
    result.checks = verify(count, summary, backend, stats)
    return result


def verify(count: int, summary, backend: str, stats: dict) -> list[str]:
    """Every check-in sent exactly once, recorded once, with the sid the provider returned."""
    from django.db.models import Count, F, Q

    from reminders.models import Checkin
    from triage.models import Message
    from triage.sms import locmem

    problems = []
    checks = [f"summary: {summary.line()}"]
    if (summary.claimed, summary.sent) != (count, count):
        problems.append("summary does not show every row claimed and sent")
    by_status = dict(Checkin.objects.values_list("status").annotate(n=Count("id")))
    checks.append(f"rows by status: {by_status}")
    if by_status != {Checkin.Status.SENT: count}:
        problems.append("not every row is sent")
    messages = Message.objects.exclude(provider_sid__startswith=HISTORY_SID).aggregate(
        n=Count("id"),
        sids=Count("provider_sid", distinct=True),
        people=Count("person", distinct=True),
    )
    linked = Checkin.objects.filter(
        Q(message__provider_sid=F("provider_sid")), message__person=F("person")
    ).count()
    checks.append(
        f"messages: {messages['n']} rows, {messages['sids']} distinct sids, "
        f"{messages['people']} people; check-ins linked to their message: {linked}"
    )
    if messages != {"n": count, "sids": count, "people": count} or linked != count:
        problems.append("messages do not match check-ins one to one")
    if backend == TWILIO_BACKEND:
        checks.append(
            f"fake: {stats['created']} created, {stats['distinct_to']} distinct numbers, "
            f"{stats['duplicates']} duplicates, {stats['rejected']} rejected"
        )
        if (stats["created"], stats["distinct_to"], stats["duplicates"], stats["rejected"]) != (
            count,
            count,
            0,
            0,
        ):
            problems.append("the fake did not receive each number exactly once")
    else:
        outbox = locmem.outbox
        distinct = len({sms.to for sms in outbox})
        checks.append(f"locmem outbox: {len(outbox)} texts, {distinct} distinct numbers")
        if (len(outbox), distinct) != (count, count):
            problems.append("the outbox does not hold each number exactly once")
    if problems:
        raise SystemExit(
            "verification failed: " + "; ".join(problems) + "\n  " + "\n  ".join(checks)
        )
    checks.append("exactly once: ok")
    return checks


# ---------------------------------------------------------------- report


def machine() -> dict[str, str]:
    from django.db import connection

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgres = cursor.fetchone()[0]
        cursor.execute("SHOW autovacuum")
        autovacuum = cursor.fetchone()[0]
    import django
    import twilio

    try:
        head = subprocess.run(
            ["git", "-C", str(ROOT), "log", "-1", "--format=%h %cs %s"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain", "--", "reminders", "triage"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        code = f"`{head[:80]}`" + (
            " plus uncommitted changes in reminders/ or triage/" if dirty else ""
        )
    except (OSError, subprocess.CalledProcessError):
        code = "unknown (not a git checkout)"

    return {
        "cpus": str(len(os.sched_getaffinity(0))),
        "cpu": cpu,
        "os": platform.platform(),
        "python": platform.python_version(),
        "postgres": postgres,
        "autovacuum": autovacuum,
        "django": django.get_version(),
        "twilio": twilio.__version__,
        "code": code,
        "load": " ".join(Path("/proc/loadavg").read_text().split()[:3])
        if Path("/proc/loadavg").exists()
        else "n/a",
    }


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def _cpu_per_k(seconds: float | None, count: int) -> str:
    return "n/a" if seconds is None else f"{seconds / count * 1000:.2f}"


def _run_name(r: Result) -> str:
    return r.label if r.batch_size is None else f"{r.label}, batch {r.batch_size}"


def report(results: list[Result], info: dict[str, str], command: str, load_after: str) -> str:
    baselines = [r for r in results if r.batch_size is None]
    # Disturbances only ever slow a run down, so the faster baseline is the ceiling.
    ceiling = max(r.rate for r in baselines)
    lines = [
        BEGIN_MARK,
        "",
        f"- Date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        f"- Machine: {info['cpus']} CPUs ({info['cpu']}), {info['os']}; "
        f"load average {info['load']} before, {load_after} after",
        f"- Software: Python {info['python']}, PostgreSQL {info['postgres']} "
        f"(autovacuum {info['autovacuum']}), "
        f"Django {info['django']}, twilio {info['twilio']}",
        f"- Code: {info['code']}",
        f"- Command: `{command}`",
        f"- Fake Twilio latency: {info.get('latency', '0')} ms per message",
        "",
        "Throughput, wall clock. The raw-send ceiling is the fastest of the baseline runs "
        f"({ceiling:,.0f} sends/s; the others show how much the machine drifted).",
        "",
        "| Run | Batch | Count | Wall s | Per second | × raw-send ceiling | ms per check-in |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.label} | {r.batch_size or '–'} | {r.count:,} | {r.wall:.1f} | {r.rate:,.0f} "
            f"| {r.rate / ceiling:.2f} | {r.wall / r.count * 1000:.2f} |"
        )
    lines += [
        "",
        "Where the time goes. Share of wall time inside `send_sms`, inside SQL statements "
        "(execute to result: round trip plus server time), inside COMMIT (deferred foreign-key "
        "checks and the WAL flush) and the rest (Python in the dispatcher and the ORM). CPU: "
        "milliseconds of CPU per check-in (or send) in this process, the Postgres backend "
        "serving it, the fake Twilio, and everything else busy on the machine meanwhile (other "
        'processes, autovacuum, kernel network work); a large "CPU other" means the run shared '
        "the machine.",
        "",
        "| Run | Batch | In send_sms | In SQL | In COMMIT | Other | CPU app | CPU Postgres "
        "| CPU fake | CPU other | Statements per batch | ms per batch, first 10% → last 10% |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        sql = r.queries.seconds if r.queries else 0.0
        commit = r.commits.seconds if r.commits else 0.0
        other = r.wall - r.sms_seconds - sql - commit
        if r.queries and r.batches:
            per_batch = f"{r.queries.count / r.batches:.1f}"
            tenth = max(1, r.batches // 10)
            first = sum(r.batch_seconds[:tenth]) / tenth
            last = sum(r.batch_seconds[-tenth:]) / tenth
            trend = f"{_ms(first)} → {_ms(last)}"
        else:
            per_batch, trend = "–", "–"
        lines.append(
            f"| {r.label} | {r.batch_size or '–'} | {r.sms_seconds / r.wall:.0%} "
            f"| {sql / r.wall:.0%} | {commit / r.wall:.0%} | {other / r.wall:.0%} "
            f"| {_cpu_per_k(r.cpu.app, r.count)} | {_cpu_per_k(r.cpu.postgres, r.count)} "
            f"| {_cpu_per_k(r.cpu.fake, r.count)} | {_cpu_per_k(r.cpu.others, r.count)} "
            f"| {per_batch} | {trend} |"
        )
    lines += ["", "Statements per batch by kind (count per batch × mean ms per statement):", ""]
    for r in results:
        if not r.queries or not r.batches:
            continue
        kinds = ", ".join(
            f"`{kind}` {n / r.batches:.1f} × {_ms(r.queries.seconds_by_kind[kind] / n)} ms"
            for kind, n in r.queries.by_kind.most_common()
        )
        lines.append(f"- {_run_name(r)}: {kinds}")
    main = next((r for r in results if r.queries and r.queries.last_batch), None)
    if main:
        lines += [
            "",
            f"A full batch of the first dispatcher run ({_run_name(main)}), in order: "
            + "; ".join(f"`{q}`" for q in main.queries.last_batch),
        ]
    lines += ["", "Checks:", ""]
    for r in results:
        lines.append(f"- {_run_name(r)}: " + "; ".join(r.checks))
    lines += ["", END_MARK]
    return "\n".join(lines)


SECTION_INTRO = """## Check-in dispatch

`benchmarks/dispatch.py` (see its docstring and benchmarks/README.md) loads N people, each with
one due check-in, into a fresh PostgreSQL database and times `reminders.dispatch.dispatch_due()`
(what `manage.py send_due_checkins` runs) with CHECKIN_MAX_PER_SECOND=0, sending through the
real Twilio backend to a zero-latency fake Twilio in a separate process. The baseline is the
same number of bare `send_sms` calls to the same fake in the same run; the locmem run shows the
database and Python cost alone. The table below is rewritten by each run.
"""


def rerun_command(module: str, url: str, argv: list[str] | None) -> str:
    """The command line that reruns benchmark `module` as it was run (for the docs)."""
    if argv is None:
        argv = sys.argv[1:]
    command = "DATABASE_URL=" + shlex.quote(url) + " .venv/bin/python -m " + module
    return command + (" " + shlex.join(argv) if argv else "")


def docs_replace_block(block: str, *, begin: str, end: str, intro: str) -> None:
    """Put `block` (which starts with `begin` and ends with `end`) into docs/benchmarks.md in
    place of the previous one, or append it under `intro` the first time. Every benchmark
    writes its figures this way; the text around the markers is never touched."""
    DOCS.parent.mkdir(exist_ok=True)
    text = DOCS.read_text() if DOCS.exists() else "# Benchmarks\n"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        text = head + block + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + intro + "\n" + block + "\n"
    DOCS.write_text(text)


def write_docs(block: str) -> None:
    docs_replace_block(block, begin=BEGIN_MARK, end=END_MARK, intro=SECTION_INTRO)


# ---------------------------------------------------------------- main


def setup_django(fake: FakeTwilioProcess) -> int:
    configure_environment(fake.url)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    api = urlsplit(settings.TWILIO_API_URL)
    if api.hostname not in ("127.0.0.1", "localhost") or settings.CHECKIN_MAX_PER_SECOND != 0:
        raise SystemExit("refusing to run: Twilio must be the local fake and sending unpaced")
    call_command("migrate", verbosity=0)
    open_sending_window()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def profile(args: argparse.Namespace, fake: FakeTwilioProcess) -> None:
    import cProfile
    import pstats

    from django.test.utils import override_settings

    from reminders.dispatch import dispatch_due
    from reminders.quiet_hours import zones_for_number

    load_data(args.profile)
    zones_for_number.cache_clear()
    backend = TWILIO_BACKEND if args.profile_backend == "twilio" else LOCMEM_BACKEND
    with override_settings(CHECKIN_BATCH_SIZE=args.batch_sizes[0], SMS_BACKEND_CLASS=backend):
        profiler = cProfile.Profile()
        profiler.runcall(dispatch_due)
    stats = pstats.Stats(profiler)
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(40)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    url = os.environ.get("DATABASE_URL", "")
    name, params = database_name(url)
    command = rerun_command("benchmarks.dispatch", url, argv)
    recreate_database(name, params)
    try:
        with FakeTwilioProcess(ACCOUNT_SID, AUTH_TOKEN, args.latency_ms) as fake:
            pg_pid = setup_django(fake)
            if args.profile:
                profile(args, fake)
                return
            run(args, fake, pg_pid, command)
    finally:
        from django.conf import settings

        if settings.configured:
            from django.db import connections

            connections.close_all()
        if not args.keep_db:
            recreate_database(name, params, drop_only=True)


WARM_UP = 200


def warm_up(sends: list[tuple[str, str]]) -> None:
    """Untimed sends first: lazy imports, the HTTP connection, the twilio client's caches."""
    from django.test.utils import override_settings

    from triage.sms import send_sms

    with override_settings(SMS_BACKEND_CLASS=TWILIO_BACKEND):
        for to, body in sends:
            send_sms(to, body)


def settle() -> None:
    """Before a timed run: write out dirty buffers (the data just loaded) so that Postgres's
    background writes land outside the timed window, and collect Python garbage."""
    import gc

    from django.db import DatabaseError, connection

    try:
        with connection.cursor() as cursor:
            cursor.execute("CHECKPOINT")  # superuser or pg_checkpoint only; optional
    except DatabaseError:
        pass
    gc.collect()


def run(args: argparse.Namespace, fake: FakeTwilioProcess, pg_pid: int, command: str) -> None:
    info = machine()
    info["latency"] = f"{args.latency_ms:g}"
    print(
        f"{info['cpus']} CPUs ({info['cpu']}), Python {info['python']}, "
        f"PostgreSQL {info['postgres']}, load {info['load']}",
        flush=True,
    )
    sends = expected_sends(args.sample)
    warm_up(sends[:WARM_UP])
    main_size, *other_sizes = args.batch_sizes
    # (backend or None for raw sends, batch size, count); baselines first, after the main
    # run, and last.
    plan: list[tuple[str | None, int, int]] = [(None, 0, args.sample)]
    plan.append((TWILIO_BACKEND, main_size, args.count))
    plan.append((None, 0, args.sample))
    plan += [(TWILIO_BACKEND, size, args.sample) for size in other_sizes]
    if args.locmem_batch_size:
        plan.append((LOCMEM_BACKEND, args.locmem_batch_size, args.sample))
    plan.append((None, 0, args.sample))
    results = []
    for backend, size, count in plan:
        if backend is None:
            result = run_raw_sends(sends, fake, pg_pid)
        else:
            result = run_dispatcher(count, backend, size, fake, pg_pid)
        results.append(result)
        batch = f", batch {result.batch_size}" if result.batch_size else ""
        print(
            f"{result.label}{batch}: {result.count:,} in {result.wall:.1f} s = "
            f"{result.rate:,.0f}/s",
            flush=True,
        )
    load_after = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    block = report(results, info, command, load_after)
    print()
    print(block)
    if not args.no_docs:
        write_docs(block)
        print(f"\nwritten to {DOCS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
