"""Check-in dispatch at scale: real Celery workers on Redis, Postgres, a zero-latency fake Twilio.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/backcheck_scale_bench \\
        .venv/bin/python -m benchmarks.dispatch_scale [--total 1000000] [--due 100000]

benchmarks/README.md explains it in full. In short:

1.  Drops and re-creates the PostgreSQL database named in DATABASE_URL (its name must contain
    "bench"), migrates it, empties the Redis database of --redis-url (FLUSHDB on that one
    database number only; never 0), starts the fake Twilio (benchmarks/fake_twilio.py) and a
    Celery worker (`-A benchmarks.celery_bench`, the project's app plus per-task statement
    counts) with --workers pool processes, as production runs them (REDIS_URL broker,
    acks late, prefetch 1), CHECKIN_MAX_PER_SECOND=0.
2.  Baseline: raw `send_sms` calls (the Twilio backend, no database) from --workers processes
    at once to the same fake: the most that many processes could send.
3.  Reads Redis memory and the worker processes' RSS, loads ("schedules") --total check-ins
    of which --due are due (COPY: people, conversations, two earlier texts each), reads them
    again, and EXPLAINs (ANALYZE, BUFFERS) the claim query as claim_batch issues it.
4.  The run: calls `reminders.tasks.dispatch_due_checkins()` here (what beat would call; it
    claims every due row in batches and enqueues one `send_checkin_batch` task per batch) and
    waits until every due row is marked sent. Throughput is due rows / that wall time.
5.  Checks each due check-in was sent exactly once (rows, Message rows and sids, the fake's
    count per number) and no other row was touched; reads memory again; runs the baseline
    again; prints the figures and writes them to docs/benchmarks.md between the
    dispatch-scale markers (unless --no-docs).

--quick: 20,000 scheduled, 5,000 due, 2,000 baseline sends per run (under 2 minutes).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from benchmarks.dispatch import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    DOCS,
    ROOT,
    configure_environment,
    copy_rows,
    database_name,
    docs_replace_block,
    machine,
    open_sending_window,
    query_kind,
    recipient,
    recreate_database,
    rerun_command,
)
from benchmarks.fake_twilio import FakeTwilioProcess

BEGIN_MARK = "<!-- dispatch-scale:begin (written by benchmarks/dispatch_scale.py) -->"
END_MARK = "<!-- dispatch-scale:end -->"
HISTORY_SID = "SMhistory"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/11"
SECRET_KEY = "benchmark-only-insecure-secret-key"


# ---------------------------------------------------------------- set-up


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.dispatch_scale",
        description="Dispatch due check-ins through real Celery workers to a fake Twilio.",
    )
    parser.add_argument("--total", type=int, default=1_000_000, help="check-ins scheduled")
    parser.add_argument("--due", type=int, default=100_000, help="of which due now")
    parser.add_argument(
        "--workers", type=int, default=2, help="Celery pool processes (and baseline senders)"
    )
    parser.add_argument("--pool", default="prefork", choices=("prefork", "threads"))
    parser.add_argument(
        "--baseline", type=int, default=20_000, help="raw sends per baseline run (0: none)"
    )
    parser.add_argument("--batch-size", type=int, default=100, help="CHECKIN_BATCH_SIZE")
    parser.add_argument(
        "--db-reuse-max",
        type=int,
        default=0,
        help="experiment: set CELERY_DB_REUSE_MAX in the workers (0: as settings.py has it)",
    )
    parser.add_argument(
        "--redis-url",
        default=DEFAULT_REDIS_URL,
        help="broker, cache and rate limit; its database is FLUSHDB'd (default db 11)",
    )
    parser.add_argument("--quick", action="store_true", help="20,000 / 5,000 / 2,000")
    parser.add_argument("--keep-db", action="store_true", help="do not drop the database after")
    parser.add_argument("--no-docs", action="store_true", help="do not write docs/benchmarks.md")
    args = parser.parse_args(argv)
    if args.quick:
        args.total, args.due, args.baseline = 20_000, 5_000, 2_000
    if not 1 <= args.due <= args.total or args.workers < 1 or args.batch_size < 1:
        parser.error("need 1 <= --due <= --total, --workers >= 1, --batch-size >= 1")
    return args


def redis_database(url: str) -> int:
    parts = urlsplit(url)
    try:
        number = int(parts.path.strip("/"))
    except ValueError:
        number = 0
    if parts.hostname not in ("127.0.0.1", "localhost") or number == 0:
        sys.exit(
            f"refusing to use {url}: it is emptied (FLUSHDB), so it must name a local Redis "
            "database other than 0, e.g. redis://127.0.0.1:6379/11"
        )
    return number


def flush_redis(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    client.flushdb()  # this database number only
    client.close()


def setup_django(fake_url: str, redis_url: str, per_second: float, batch_size: int) -> None:
    configure_environment(fake_url)
    os.environ.update(
        REDIS_URL=redis_url,
        CHECKIN_MAX_PER_SECOND=f"{per_second:g}",
        CHECKIN_BATCH_SIZE=str(batch_size),
    )
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    if urlsplit(settings.TWILIO_API_URL).hostname not in ("127.0.0.1", "localhost"):
        raise SystemExit("refusing to run: Twilio must be the local fake")
    call_command("migrate", verbosity=0)
    open_sending_window()


# ---------------------------------------------------------------- the data set


def load_schedule(total: int, due: int) -> dict[str, float]:
    """Empty the tables and schedule `total` check-ins, `due` of them due within the last hour.

    People: max(due, total/2), each with an episode (outcome tier cycling through routine,
    soon, urgent) and two earlier texts. Every person gets their tier's first check-in; the
    first `due` people's is due now, the rest's 1 to 14 days out; people get their tier's
    second check-in (3 to 6 weeks out) until `total` rows exist. Returns seconds per phase.
    """
    from django.core.management.color import no_style
    from django.db import connection, transaction
    from django.utils import timezone

    from reminders.models import Checkin, CheckinStep
    from triage.models import Conversation, Message, Person

    now = timezone.now()
    people = max(due, -(-total // 2))
    steps = list(CheckinStep.objects.filter(active=True).order_by("tier", "offset_days"))
    plans = {}
    for step in steps:
        plans.setdefault(step.tier, []).append(step)
    tiers = sorted(plans)
    timings = {}
    started = time.perf_counter()
    tables = [m._meta.db_table for m in (Checkin, Message, Conversation, Person)]

    def person_rows():
        for i in range(people):
            r = recipient(i)
            yield (str(i + 1), r.phone, r.phone, r.country, r.language)

    def conversation_rows():
        for i in range(people):
            r = recipient(i)
            tier = tiers[i % len(tiers)]
            outcome = now - dt.timedelta(days=plans[tier][0].offset_days, seconds=i % 3600)
            yield (str(i + 1), str(i + 1), str(tier), r.language, outcome.isoformat())

    def message_rows():
        for i in range(people):
            r = recipient(i)
            pk = str(i + 1)
            yield (pk, pk, "in", r.phone, "my upper back hurts", f"{HISTORY_SID}{pk}a", "received")
            yield (pk, pk, "out", r.phone, "Self-care advice.", f"{HISTORY_SID}{pk}b", "replied")

    def checkin_rows():
        pk = 0
        for i in range(people):
            tier = tiers[i % len(tiers)]
            first = plans[tier][0]
            if i < due:  # a permutation of the last hour: distinct times, not in id order
                when = now - dt.timedelta(seconds=3600 - 3000 * ((i * 7919) % due) / due)
            else:
                # From a day out: nothing may fall due while a large schedule loads.
                when = now + dt.timedelta(days=1, seconds=(i * 7919) % (13 * 86400))
            pk += 1
            yield (
                str(pk), str(i + 1), str(i + 1), str(first.pk), str(tier), first.kind,
                first.message_key, when.isoformat(), when.isoformat(),
            )  # fmt: skip
        for i in range(total - people):
            tier = tiers[i % len(tiers)]
            later = plans[tier][-1]
            when = now + dt.timedelta(days=21, seconds=(i * 7919) % (21 * 86400))
            pk += 1
            yield (
                str(pk), str(i + 1), str(i + 1), str(later.pk), str(tier), later.kind,
                later.message_key, when.isoformat(), when.isoformat(),
            )  # fmt: skip

    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
        copy_rows(Person, ["id", "address", "phone", "country", "language"], person_rows(), now)
        copy_rows(
            Conversation,
            ["id", "person_id", "tier", "language", "outcome_at"],
            conversation_rows(),
            now,
        )
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
            message_rows(),
            now,
        )
        timings["people, episodes, texts"] = time.perf_counter() - started
        started = time.perf_counter()
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
            checkin_rows(),
            now,
        )
        with connection.cursor() as cursor:
            for statement in connection.ops.sequence_reset_sql(
                no_style(), [Person, Conversation, Checkin, Message]
            ):
                cursor.execute(statement)
    timings["check-ins"] = time.perf_counter() - started
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {', '.join(tables)}")
        try:
            cursor.execute("CHECKPOINT")  # write the load out before anything is timed
        except Exception:  # noqa: BLE001 - needs superuser or pg_checkpoint; optional
            pass
    timings["analyze, checkpoint"] = time.perf_counter() - started
    return timings


def table_sizes() -> dict[str, str]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_size_pretty(pg_total_relation_size('reminders_checkin')), "
            "pg_size_pretty(pg_relation_size('checkin_claimable'))"
        )
        table, index = cursor.fetchone()
    return {"reminders_checkin (with indexes)": table, "checkin_claimable index": index}


# ---------------------------------------------------------------- instruments


def statement_kind(sql: str) -> str:
    """benchmarks.dispatch.query_kind, but telling the claim's pick (which joins the people for
    the simulated filter) from the chunk's lock (which joins them to lock them)."""
    if "FOR UPDATE" in sql and '"send_after" <=' in sql and "reminders_checkin" in sql:
        return "claim: pick ids"
    return query_kind(sql)


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def server_pids(redis_url: str) -> dict[str, list[int]]:
    """PostgreSQL processes serving this benchmark's database (client backends) plus its
    background processes (WAL writer, checkpointer...: shared with any other database), and
    the Redis server."""
    import redis
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "OR backend_type <> 'client backend'"
        )
        postgres = [row[0] for row in cursor.fetchall()]
    client = redis.Redis.from_url(redis_url)
    pids = {"PostgreSQL": postgres, "Redis": [int(client.info("server")["process_id"])]}
    client.close()
    return pids


def postgres_cpu(pids: list[int]) -> float:
    """CPU of `pids` plus what the postmaster has collected from backends that exited (any
    database's: Celery's Django fix-up may close and reopen a connection per task)."""
    if not pids:
        return 0.0
    try:
        parent = int(Path(f"/proc/{pids[0]}/stat").read_text().rsplit(")", 1)[1].split()[1])
        fields = Path(f"/proc/{parent}/stat").read_text().rsplit(")", 1)[1].split()
        reaped = (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        reaped = 0.0
    return reaped + sum(map(cpu_seconds, pids))


def machine_busy() -> float:
    ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)
    return (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


@dataclass
class Memory:
    label: str
    redis_used: int  # INFO memory used_memory: the whole server (other databases too)
    redis_db_keys: int
    redis_db_bytes: int  # MEMORY USAGE summed over this benchmark's database
    worker_rss: dict[int, int]  # pid -> KiB (the Celery main process and its pool)


def read_memory(label: str, redis_url: str, worker_pid: int) -> Memory:
    import redis

    client = redis.Redis.from_url(redis_url)
    used = int(client.info("memory")["used_memory"])
    keys = 0
    size = 0
    for key in client.scan_iter(count=1000):
        keys += 1
        size += client.memory_usage(key) or 0
    client.close()
    pids = [worker_pid, *children(worker_pid)]
    return Memory(label, used, keys, size, {pid: rss_kib(pid) for pid in pids})


# ---------------------------------------------------------------- Celery workers


class Workers:
    """`celery -A benchmarks.celery_bench worker` with `processes` pool processes."""

    def __init__(self, env: dict[str, str], processes: int, pool: str, folder: Path) -> None:
        self.env = {**env, "BENCH_STATS_DIR": str(folder)}
        self.processes = processes
        self.pool = pool
        self.folder = folder
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Workers:
        log = (self.folder / "worker.log").open("wb")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "benchmarks.celery_bench",
                "worker",
                "--loglevel",
                "WARNING",
                "--pool",
                self.pool,
                "--concurrency",
                str(self.processes),
                "--without-heartbeat",
                "--without-gossip",
                "--without-mingle",
                "--hostname",
                f"bench-{uuid.uuid4().hex[:8]}@%h",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + 60
        want = self.processes if self.pool == "prefork" else 0
        while len(children(self.pid)) < want or not self._ready():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the Celery worker did not start:\n" + self.log())
            time.sleep(0.2)
        return self

    def _ready(self) -> bool:
        from backpain_service.celery import app

        replies = app.control.ping(timeout=0.5) or []
        return any(name.startswith("bench-") for reply in replies for name in reply)

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def pool_pids(self) -> list[int]:
        return children(self.pid) or [self.pid]

    def cpu(self) -> float:
        return sum(cpu_seconds(pid) for pid in [self.pid, *children(self.pid)])

    def log(self) -> str:
        return (self.folder / "worker.log").read_text(errors="replace")

    def stats(self) -> dict[str, dict]:
        """Per-task totals summed over the pool processes (benchmarks/celery_bench.py)."""
        tasks: Counter[str] = Counter()
        rows: Counter[str] = Counter()
        seconds: Counter[str] = Counter()
        statements: dict[str, Counter[str]] = {}
        for path in self.folder.glob("*.json"):
            data = json.loads(path.read_text())
            tasks.update(data["tasks"])
            rows.update(data["rows"])
            seconds.update(data["seconds"])
            for task, kinds in data["statements"].items():
                statements.setdefault(task, Counter()).update(kinds)
        return {"tasks": tasks, "rows": rows, "seconds": seconds, "statements": statements}

    def __exit__(self, *exc: object) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()  # warm shutdown
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


def worker_env(database_url: str, redis_url: str, fake_url: str, per_second: float) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(
        PYTHONUNBUFFERED="1",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        DEBUG="false",
        SECRET_KEY=SECRET_KEY,
        SMS_BACKEND="twilio",
        TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        TWILIO_FROM_NUMBER="+15005550006",
        TWILIO_API_URL=fake_url,
        TWILIO_WEBHOOK_BASE_URL="https://backcheck.example",
        CHECKIN_MAX_PER_SECOND=f"{per_second:g}",
        LOG_LEVEL="WARNING",
    )
    for name in ("TWILIO_MESSAGING_SERVICE_SID", "TWILIO_EDGE", "TWILIO_REGION"):
        env.pop(name, None)
    return env


# ---------------------------------------------------------------- raw-send baseline


def _raw_sender(first: int, count: int, body: str, ready, go, out) -> None:
    """In a fresh process: Django set up, 100 warm-up sends, then `count` timed sends."""
    import django

    django.setup()
    from triage.sms import send_sms

    for i in range(100):
        send_sms(f"+1999{first + i:07d}", body)
    ready.put(None)
    go.wait()
    started = time.time()
    cpu = time.process_time()
    for i in range(first, first + count):
        send_sms(recipient(i).phone, body)
    out.put((started, time.time(), time.process_time() - cpu))


@dataclass
class Baseline:
    processes: int
    count: int
    wall: float
    cpu_per_send: float  # ms, in the senders
    fake_cpu_per_send: float  # ms

    @property
    def rate(self) -> float:
        return self.count / self.wall


def raw_sends(count: int, processes: int, fake: FakeTwilioProcess) -> Baseline:
    """`count` sends split over `processes` processes started together (spawned, so none
    inherits this process's connections)."""
    body = "How is your back pain today compared with 2 weeks ago? Reply better, same or worse."
    context = multiprocessing.get_context("spawn")
    ready, out, go = context.Queue(), context.Queue(), context.Event()
    share = -(-count // processes)
    jobs = []
    for n in range(processes):
        first = n * share
        size = max(0, min(share, count - first))
        jobs.append(context.Process(target=_raw_sender, args=(first, size, body, ready, go, out)))
    for job in jobs:
        job.start()
    for _ in jobs:
        ready.get(timeout=120)
    fake.reset()
    fake_cpu = fake.stats()["cpu"]
    go.set()
    results = [out.get(timeout=600) for _ in jobs]
    for job in jobs:
        job.join()
    stats = fake.stats()
    if stats["created"] != count or stats["duplicates"] or stats["rejected"]:
        raise SystemExit(f"raw-send baseline did not send exactly once: {stats}")
    wall = max(r[1] for r in results) - min(r[0] for r in results)
    return Baseline(
        processes,
        count,
        wall,
        sum(r[2] for r in results) / count * 1000,
        (stats["cpu"] - fake_cpu) / count * 1000,
    )


# ---------------------------------------------------------------- the claim query


def explain_claim(batch_size: int) -> tuple[str, list[str]]:
    """The SQL claim_batch picks its rows with, and EXPLAIN (ANALYZE, BUFFERS) of it run twice
    (cold, then warm), each in a transaction rolled back so nothing stays claimed."""
    from django.db import connection, transaction
    from django.utils import timezone

    from reminders.dispatch import claim_batch

    captured: list[tuple[str, object]] = []

    def capture(execute, sql, params, many, context):
        if not captured and statement_kind(sql) == "claim: pick ids":
            captured.append((sql, params))
        return execute(sql, params, many, context)

    with transaction.atomic(), connection.execute_wrapper(capture):
        claim_batch(timezone.now(), batch_size)
        transaction.set_rollback(True)
    if not captured:
        raise SystemExit("claim_batch issued no 'pick ids' statement: benchmarks need updating")
    sql, params = captured[0]
    plans = []
    for _ in range(2):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            plans.append("\n".join(row[0] for row in cursor.fetchall()))
            transaction.set_rollback(True)
    return connection.ops.compose_sql(sql, params), plans


# ---------------------------------------------------------------- the run


def pg_counters() -> dict[str, int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT xact_commit, tup_inserted, tup_updated FROM pg_stat_database "
            "WHERE datname = current_database()"
        )
        commits, inserted, updated = cursor.fetchone()
    return {"commits": commits, "inserted": inserted, "updated": updated}


def sent_count() -> int:
    from reminders.models import Checkin

    return Checkin.objects.filter(status=Checkin.Status.SENT).count()


@dataclass
class Run:
    due: int
    wall: float = 0.0
    claim_wall: float = 0.0
    summary: str = ""
    timeline: list[tuple[float, int]] = field(default_factory=list)
    claim_statements: Counter[str] = field(default_factory=Counter)
    worker_stats: dict = field(default_factory=dict)
    pg: dict[str, int] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)
    checks: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.due / self.wall

    def stretch_rate(self, low: float, high: float) -> float:
        """Sends per second between `low` and `high` (shares of `due`) of the timeline."""

        def when(share: float) -> float:
            target = share * self.due
            for t, n in self.timeline:
                if n >= target:
                    return t
            return self.timeline[-1][0]

        return (high - low) * self.due / max(1e-9, when(high) - when(low))


def dispatch_and_wait(due: int, fake: FakeTwilioProcess, workers: Workers, redis_url: str) -> Run:
    """Beat's pass, called here; then wait for the workers to mark every due row sent."""
    from django.db import connection

    from reminders.tasks import dispatch_due_checkins

    run = Run(due)
    fake.reset()

    def count_claims(execute, sql, params, many, context):
        run.claim_statements[statement_kind(sql)] += 1
        return execute(sql, params, many, context)

    servers = server_pids(redis_url)
    tasks_before = workers.stats()

    def cpu_now() -> dict[str, float]:
        return {
            "workers": workers.cpu(),
            "dispatcher (this process)": time.process_time(),
            "fake Twilio": fake.stats()["cpu"],
            "PostgreSQL": postgres_cpu(servers["PostgreSQL"]),
            "Redis": sum(map(cpu_seconds, servers["Redis"])),
            "machine": machine_busy(),
        }

    pg_before = pg_counters()
    cpu_before = cpu_now()
    started = time.perf_counter()
    finished = threading.Event()
    stalled: list[str] = []

    def watch() -> None:
        """Samples the fake's count every 0.1 s, from the start (the claim pass included)."""
        last_progress, last_count = time.perf_counter(), -1
        while True:
            created = int(fake.stats()["created"])
            now = time.perf_counter()
            run.timeline.append((now - started, created))
            if created >= due:
                break
            if created != last_count:
                last_progress, last_count = now, created
            elif now - last_progress > 120 or workers.process.poll() is not None:
                stalled.append(f"stalled at {created} of {due} sent:\n{workers.log()[-3000:]}")
                break
            time.sleep(0.1)
        finished.set()

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    with connection.execute_wrapper(count_claims):
        run.summary = dispatch_due_checkins()
    run.claim_wall = time.perf_counter() - started
    finished.wait()
    if stalled:
        raise SystemExit(stalled[0])
    while sent_count() < due:
        if time.perf_counter() - started > run.timeline[-1][0] + 120:
            raise SystemExit("texts went out but their rows were not all marked sent")
        time.sleep(0.02)
    run.wall = time.perf_counter() - started
    cpu_after = cpu_now()
    run.cpu = {k: cpu_after[k] - cpu_before[k] for k in cpu_before}
    # PostgreSQL publishes a backend's counters at most once a second, and an idle backend's
    # last ones up to 10 s later (PGSTAT_IDLE_INTERVAL): the workers keep their connections.
    time.sleep(11)
    pg_after = pg_counters()
    run.pg = {k: pg_after[k] - pg_before[k] for k in pg_before}
    tasks_after = workers.stats()
    run.worker_stats = {
        "tasks": tasks_after["tasks"] - tasks_before["tasks"],
        "rows": tasks_after["rows"] - tasks_before["rows"],
        "seconds": {
            k: v - tasks_before["seconds"].get(k, 0.0) for k, v in tasks_after["seconds"].items()
        },
        "statements": {
            k: v - tasks_before["statements"].get(k, Counter())
            for k, v in tasks_after["statements"].items()
        },
    }
    return run


def verify(total: int, due: int, fake: FakeTwilioProcess) -> list[str]:
    """Each due check-in sent exactly once and recorded with its sid; nothing else touched."""
    from django.db.models import Count, F, Q
    from django.utils import timezone

    from reminders.models import Checkin
    from triage.models import Message

    problems, checks = [], []
    by_status = dict(Checkin.objects.values_list("status").annotate(n=Count("id")))
    checks.append(f"rows by status: {by_status}")
    if by_status != {Checkin.Status.SENT: due, Checkin.Status.PENDING: total - due} and not (
        total == due and by_status == {Checkin.Status.SENT: due}
    ):
        problems.append("not exactly the due rows are sent")
    early = Checkin.objects.filter(status=Checkin.Status.SENT, due_at__gt=timezone.now()).count()
    if early:
        problems.append(f"{early} rows not yet due were sent")
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
    if messages != {"n": due, "sids": due, "people": due} or linked != due:
        problems.append("messages do not match the due check-ins one to one")
    stats = fake.stats()
    checks.append(
        f"fake: {stats['created']} created, {stats['distinct_to']} distinct numbers, "
        f"{stats['duplicates']} duplicates, {stats['rejected']} rejected"
    )
    if (stats["created"], stats["distinct_to"], stats["duplicates"], stats["rejected"]) != (
        due,
        due,
        0,
        0,
    ):
        problems.append("the fake did not receive each due number exactly once")
    if problems:
        raise SystemExit("verification failed: " + "; ".join(problems) + "\n" + "\n".join(checks))
    checks.append("exactly once: ok")
    return checks


def truncate() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE reminders_checkin, triage_message, triage_conversation, triage_person "
            "RESTART IDENTITY CASCADE"
        )


def warm_up(fake: FakeTwilioProcess, workers: Workers, processes: int, redis_url: str) -> None:
    """A small pass first, untimed: imports, connections and caches in every pool process."""
    count = 100 * processes * 2
    load_schedule(count, count)
    dispatch_and_wait(count, fake, workers, redis_url)
    truncate()


# ---------------------------------------------------------------- report


def _kib(n: int) -> str:
    return f"{n / 1024:,.1f} MiB"


def _per_batch(counts: Counter[str], batches: int) -> str:
    if not batches:
        return "–"
    parts = [f"`{kind}` {n / batches:.2f}" for kind, n in counts.most_common()]
    return f"{sum(counts.values()) / batches:.1f} ({', '.join(parts)})"


def report(ctx: dict) -> str:
    args, info, run = ctx["args"], ctx["info"], ctx["run"]
    baselines: list[Baseline] = ctx["baselines"]
    memory: list[Memory] = ctx["memory"]
    lines = [
        "",
        f"- Date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        f"- Machine: {info['cpus']} CPUs ({info['cpu']}), {info['os']}; load average "
        f"{ctx['load_before']} before, {ctx['load_after']} after",
        f"- Software: Python {info['python']}, PostgreSQL {info['postgres']} (autovacuum "
        f"{info['autovacuum']}), Django {info['django']}, Redis {ctx['redis_version']}",
        f"- Code: {info['code']}",
        f"- Command: `{ctx['command']}`",
        f"- Workers: one `celery worker --pool {args.pool} --concurrency {args.workers}` "
        f"(prefetch 1, acks late), Redis broker and rate-limit store (db "
        f"{redis_database(args.redis_url)}), CHECKIN_BATCH_SIZE={args.batch_size}, "
        "CHECKIN_MAX_PER_SECOND=0; beat replaced by calling `dispatch_due_checkins()` once",
        f"- Scheduled: {args.total:,} check-ins ({ctx['people']:,} people), {args.due:,} due; "
        f"load took {sum(ctx['load'].values()):.0f} s; "
        + ", ".join(f"{k} {v}" for k, v in ctx["sizes"].items()),
        "",
        "Throughput, wall clock. Baseline: raw `send_sms` calls (the same Twilio backend, no "
        f"database) from {args.workers} processes at once to the same fake; the ceiling is the "
        "faster of the two baseline runs.",
        "",
        "| Run | Count | Wall s | Per second | × raw-send ceiling |",
        "|---|---:|---:|---:|---:|",
    ]
    ceiling = max((b.rate for b in baselines), default=0.0)

    def ratio(rate: float) -> str:
        return f"{rate / ceiling:.2f}" if ceiling else "–"

    rows = [("raw sends (baseline, before)", baselines[0])] if baselines else []
    for label, b in rows:
        lines.append(f"| {label} | {b.count:,} | {b.wall:.1f} | {b.rate:,.0f} | {ratio(b.rate)} |")
    lines.append(
        f"| **dispatch through Celery, end to end** | {run.due:,} | {run.wall:.1f} | "
        f"**{run.rate:,.0f}** | {ratio(run.rate)} |"
    )
    if len(baselines) > 1:
        b = baselines[1]
        lines.append(
            f"| raw sends (baseline, after) | {b.count:,} | {b.wall:.1f} | {b.rate:,.0f} | "
            f"{ratio(b.rate)} |"
        )
    first, last = run.stretch_rate(0.0, 0.1), run.stretch_rate(0.9, 1.0)
    batches = run.worker_stats["tasks"].get("send_checkin_batch", 0)
    task_rows = run.worker_stats["rows"].get("send_checkin_batch", 0)
    task_seconds = run.worker_stats["seconds"].get("send_checkin_batch", 0.0)
    claimed_batches = run.claim_statements.get("claim: pick ids", 0)
    send_statements = Counter(run.worker_stats["statements"].get("send_checkin_batch", {}))
    cpu = run.cpu
    known = sum(v for k, v in cpu.items() if k != "machine")
    lines += [
        "",
        f"- Claim pass (`dispatch_due_checkins()`, in the benchmark process): {run.summary}, "
        f"{run.claim_wall:.1f} s for {claimed_batches:,} claim transactions; the workers "
        "started sending as soon as the first batch was enqueued.",
        f"- Rate over the run: {first:,.0f}/s over the first 10% of the texts, "
        f"{last:,.0f}/s over the last 10%.",
        f"- Celery tasks: {batches:,} `send_checkin_batch` ({task_rows / max(1, batches):.0f} "
        f"rows each, {task_seconds / max(1, batches) * 1000:.0f} ms each on average in the "
        "pool process) and 1 `dispatch_due_checkins`.",
        f"- Statements per batch, claim (in the dispatch task): "
        f"{_per_batch(run.claim_statements, claimed_batches)}",
        f"- Statements per batch, send (in `send_checkin_batch`): "
        f"{_per_batch(send_statements, batches)}",
        f"- PostgreSQL for the run (pg_stat_database): {run.pg['commits']:,} commits "
        f"({run.pg['commits'] / run.due * 100:.1f} per 100 check-ins), "
        f"{run.pg['inserted']:,} rows inserted, {run.pg['updated']:,} updated.",
        "- CPU per check-in: "
        + ", ".join(f"{k} {v / run.due * 1000:.2f} ms" for k, v in cpu.items() if k != "machine")
        + f", everything else (kernel, other work on the machine) "
        f"{max(0.0, cpu['machine'] - known) / run.due * 1000:.2f} ms; machine busy "
        f"{cpu['machine'] / run.wall / int(info['cpus']) * 100:.0f}% of {info['cpus']} CPUs "
        "during the run.",
    ]
    if baselines:
        b = baselines[0]
        lines.append(
            f"- Baseline CPU per send: {b.cpu_per_send:.2f} ms in the senders, "
            f"{b.fake_cpu_per_send:.2f} ms in the fake."
        )
    lines += [
        "",
        "Memory. Redis `used_memory` is the whole server's (other databases on it included); "
        f"the next column sums `MEMORY USAGE` over the keys of db {redis_database(args.redis_url)} "
        "only. RSS from /proc/<pid>/status VmRSS: the Celery main process, then each pool process.",
        "",
        "| When | Redis used_memory | db keys | db bytes | Worker RSS (main; pool) |",
        "|---|---:|---:|---:|---|",
    ]
    for m in memory:
        pids = list(m.worker_rss)
        rss = f"{_kib(m.worker_rss[pids[0]])}; " + ", ".join(
            _kib(m.worker_rss[p]) for p in pids[1:]
        )
        lines.append(
            f"| {m.label} | {m.redis_used / 1048576:,.1f} MiB | {m.redis_db_keys} | "
            f"{m.redis_db_bytes:,} | {rss} |"
        )
    sql, plans = ctx["explain"]
    used = "checkin_claimable" in plans[-1]
    lines += [
        "",
        f"The claim query as `claim_batch` sends it, on {args.total:,} scheduled rows with "
        f"{args.due:,} due (EXPLAIN (ANALYZE, BUFFERS), in a transaction rolled back; "
        f"index checkin_claimable {'used' if used else 'NOT used'}; run twice, the second shown):",
        "",
        "```sql",
        sql,
        "```",
        "",
        "```",
        plans[-1],
        "```",
        "",
        "Checks:",
        "",
        *[f"- {c}" for c in run.checks],
        "",
    ]
    return "\n".join(lines)


SECTION_INTRO = """## Check-in dispatch at scale, through Celery

`benchmarks/dispatch_scale.py` (see benchmarks/README.md) schedules a large number of
check-ins in a fresh PostgreSQL database, of which some are due, and measures the production
path end to end: `dispatch_due_checkins()` (beat's task, called directly) claims the due rows in
batches and enqueues one `send_checkin_batch` per batch on Redis; real Celery pool processes
send each batch to a zero-latency fake Twilio in a separate process and mark the rows sent. The
baseline is raw `send_sms` calls from the same number of processes to the same fake. It also
records the claim query's plan, statements per batch, and Redis memory and worker RSS before
and after scheduling.

The block between the markers is rewritten by each run; the reading after it is not.
"""


def write_docs(block: str) -> None:
    docs_replace_block(
        f"{BEGIN_MARK}\n{block}\n{END_MARK}", begin=BEGIN_MARK, end=END_MARK, intro=SECTION_INTRO
    )


# ---------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    url = os.environ.get("DATABASE_URL", "")
    name, params = database_name(url)
    redis_database(args.redis_url)
    command = rerun_command("benchmarks.dispatch_scale", url, argv)
    load_before = load_average()
    recreate_database(name, params)
    flush_redis(args.redis_url)
    try:
        with (
            tempfile.TemporaryDirectory(prefix="dispatch-scale-") as folder,
            FakeTwilioProcess(ACCOUNT_SID, AUTH_TOKEN) as fake,
        ):
            setup_django(fake.url, args.redis_url, 0, args.batch_size)
            import redis

            info = machine()
            print(
                f"{info['cpus']} CPUs ({info['cpu']}), PostgreSQL {info['postgres']}, "
                f"load {load_before}",
                flush=True,
            )
            ctx: dict = {"args": args, "info": info, "command": command}
            ctx["redis_version"] = redis.Redis.from_url(args.redis_url).info("server")[
                "redis_version"
            ]
            ctx["load_before"] = load_before
            ctx["baselines"] = []
            if args.baseline:
                b = raw_sends(args.baseline, args.workers, fake)
                ctx["baselines"].append(b)
                print(f"raw sends x{args.workers}: {b.count:,} in {b.wall:.1f} s = {b.rate:,.0f}/s")
            env = worker_env(url, args.redis_url, fake.url, 0)
            env["CHECKIN_BATCH_SIZE"] = str(args.batch_size)
            if args.db_reuse_max:
                env["BENCH_DB_REUSE_MAX"] = str(args.db_reuse_max)
            with Workers(env, args.workers, args.pool, Path(folder)) as workers:
                warm_up(fake, workers, args.workers, args.redis_url)
                memory = [
                    read_memory("before scheduling (workers warm)", args.redis_url, workers.pid)
                ]
                ctx["load"] = load_schedule(args.total, args.due)
                ctx["people"] = max(args.due, -(-args.total // 2))
                print(
                    f"scheduled {args.total:,} ({args.due:,} due) in "
                    f"{sum(ctx['load'].values()):.0f} s",
                    flush=True,
                )
                memory.append(
                    read_memory(f"after scheduling {args.total:,}", args.redis_url, workers.pid)
                )
                ctx["sizes"] = table_sizes()
                ctx["explain"] = explain_claim(args.batch_size)
                run = dispatch_and_wait(args.due, fake, workers, args.redis_url)
                print(f"dispatched {run.due:,} in {run.wall:.1f} s = {run.rate:,.0f}/s", flush=True)
                run.checks = verify(args.total, args.due, fake)
                memory.append(
                    read_memory(f"after sending {args.due:,}", args.redis_url, workers.pid)
                )
            ctx["memory"], ctx["run"] = memory, run
            if args.baseline:
                b = raw_sends(args.baseline, args.workers, fake)
                ctx["baselines"].append(b)
                print(f"raw sends x{args.workers}: {b.count:,} in {b.wall:.1f} s = {b.rate:,.0f}/s")
            ctx["load_after"] = load_average()
            block = report(ctx)
            print(block)
            if not args.no_docs:
                write_docs(block)
                print(f"\nwritten to {DOCS.relative_to(ROOT)}")
    finally:
        from django.conf import settings

        if settings.configured:
            from django.db import connections

            connections.close_all()
        flush_redis(args.redis_url)
        if not args.keep_db:
            recreate_database(name, params, drop_only=True)


if __name__ == "__main__":
    main()
