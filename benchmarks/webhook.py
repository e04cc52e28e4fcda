"""Inbound webhook under concurrent load, against two baselines served in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/backcheck_webhook_bench \
        .venv/bin/python -m benchmarks.webhook

A gunicorn server (sync workers, as in docker-compose.yml) runs the project against PostgreSQL
(and Redis for the cache, as in production). An asyncio client plays `--senders` people at a
time texting concurrently: each sender walks its own people through a whole routine
conversation (ROUTINE_EN of tests/scripts.py), one text after the previous reply, so every
request is a real person mid-conversation with a real Twilio signature (computed before timing
starts). The same load goes to three URLs of the same server, in turn, `--rounds` times:

1. /bench/signature/: signature check and fixed TwiML (no database) - the HTTP ceiling;
2. /bench/insert/: that plus one committed INSERT of the text - the least a webhook that never
   loses a text can do (the baseline the target is set against);
3. /twilio/inbound/: the real webhook.

Reported: requests/s, p50/p99 latency, errors, and the ratio of the real webhook's throughput
to the INSERT baseline's. Then, in-process, the SQL queries each text of a conversation costs.
Every run checks that each text sent to the real webhook was stored exactly once and that every
conversation reached its outcome.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from urllib.parse import urlencode

from benchmarks.dispatch import (
    DOCS,
    ROOT,
    database_name,
    docs_replace_block,
    recreate_database,
    rerun_command,
)
from tests.scripts import ROUTINE_EN, inbound_form

BEGIN_MARK = "<!-- webhook:begin (written by benchmarks/webhook.py) -->"
END_MARK = "<!-- webhook:end -->"
AUTH_TOKEN = "benchmark-only-token"
ACCOUNT_SID = "AC" + "be7c4" * 6 + "00"
TO_NUMBER = "+15005550006"
PYTHON = sys.executable

URLS = {
    "signature only": "/bench/signature/",
    "signature + INSERT": "/bench/insert/",
    "real webhook": "/twilio/inbound/",
}


# A Redis database no test and no other benchmark uses: the Celery integration test flushes
# db 15 (or 14), CI runs on db 0, the dispatch benchmarks flush db 11.
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/12"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.webhook", description=__doc__.split("\n\n")[0]
    )
    p.add_argument("--senders", type=int, default=16, help="concurrent senders (default 16)")
    p.add_argument(
        "--people", type=int, default=25, help="people each sender walks through (default 25)"
    )
    p.add_argument("--workers", type=int, default=3, help="gunicorn workers (default 3)")
    p.add_argument("--rounds", type=int, default=2, help="passes over the three URLs")
    p.add_argument(
        "--redis-url",
        default=os.environ.get("REDIS_URL", DEFAULT_REDIS_URL),
        help="the cache, as in production; 'none' for none (default db 12 on localhost)",
    )
    p.add_argument("--no-docs", action="store_true", help="print, don't write docs/benchmarks.md")
    return p.parse_args(argv)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_environment(args: argparse.Namespace, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "CHECKIN_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="benchmarks.webhook_settings",
        DEBUG="false",
        SECRET_KEY="benchmark-only-" + "x" * 50,
        ALLOWED_HOSTS="127.0.0.1",
        TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        TWILIO_WEBHOOK_BASE_URL=f"http://127.0.0.1:{port}",
        SMS_BACKEND="locmem",
        LOG_LEVEL="WARNING",
        # Plain http on loopback: no TLS redirect for this server.
        SECURE_SSL_REDIRECT="false",
    )
    if args.redis_url and args.redis_url != "none":
        env["REDIS_URL"] = args.redis_url
    else:
        env.pop("REDIS_URL", None)
    return env


# ---------------------------------------------------------------- the load


@dataclass
class Request:
    person: int
    raw: bytes


@dataclass
class Run:
    name: str
    round: int
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    # The whole machine's CPU seconds (client, gunicorn, PostgreSQL, Redis) and the seconds the
    # hypervisor gave our CPUs to someone else (steal), during the run.
    cpu: float = 0.0
    steal: float = 0.0
    seconds: float = 0.0

    @property
    def count(self) -> int:
        return len(self.latencies) + self.errors

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0

    @property
    def cpu_ms(self) -> float:
        """Machine CPU per request, in ms: what the rate would be bound by on idle CPUs."""
        return self.cpu / self.count * 1000 if self.count else 0.0

    @property
    def steal_pct(self) -> float:
        """Of the run's CPU time (2 CPUs x seconds), the share the hypervisor took away."""
        cpus = os.cpu_count() or 1
        return 100 * self.steal / (cpus * self.seconds) if self.seconds else 0.0

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def signed_request(port: int, path: str, number: str, body: str) -> bytes:
    from twilio.request_validator import RequestValidator

    params = inbound_form(number, body, account_sid=ACCOUNT_SID, to=TO_NUMBER)
    url = f"http://127.0.0.1:{port}{path}"
    signature = RequestValidator(AUTH_TOKEN).compute_signature(url, params)
    data = urlencode(params).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"X-Twilio-Signature: {signature}\r\nContent-Length: {len(data)}\r\n"
        "User-Agent: TwilioProxy/1.1\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + data


def build_load(
    port: int, path: str, senders: int, people: int, prefix: str
) -> list[list[list[bytes]]]:
    """Per sender, per person, the signed requests of one whole conversation."""
    load = []
    for s in range(senders):
        persons = []
        for p in range(people):
            number = f"+1{prefix}{s:02d}{p:04d}"  # a 10-digit US number
            persons.append([signed_request(port, path, number, text) for text in ROUTINE_EN])
        load.append(persons)
    return load


async def _post(raw: bytes, port: int) -> tuple[int, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(raw)
        await writer.drain()
        data = await reader.read()  # Connection: close - read to EOF
    finally:
        writer.close()
    status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/") else 0
    return status, data


async def _sender(persons: list[list[bytes]], port: int, run: Run) -> None:
    for conversation in persons:
        for raw in conversation:
            started = time.perf_counter()
            try:
                status, data = await _post(raw, port)
            except OSError:
                status, data = 0, b""
            elapsed = time.perf_counter() - started
            if status == 200 and b"<Response" in data:
                run.latencies.append(elapsed)
            else:
                run.errors += 1


async def _drive(load: list[list[list[bytes]]], port: int, run: Run) -> None:
    started = time.perf_counter()
    await asyncio.gather(*(_sender(persons, port, run) for persons in load))
    run.seconds = time.perf_counter() - started


def cpu_times() -> tuple[float, float]:
    """CPU seconds used by everything on the machine, and stolen from it, since boot (Linux)."""
    try:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:9]]
    except OSError:
        return 0.0, 0.0
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    tick = os.sysconf("SC_CLK_TCK")
    return (user + nice + system + irq + softirq) / tick, steal / tick


def drive(load, port: int, name: str, round_no: int) -> Run:
    run = Run(name=name, round=round_no)
    cpu, steal = cpu_times()
    asyncio.run(_drive(load, port, run))
    cpu_after, steal_after = cpu_times()
    run.cpu, run.steal = cpu_after - cpu, steal_after - steal
    return run


# ---------------------------------------------------------------- server and checks


def start_server(args: argparse.Namespace, env: dict[str, str], port: int) -> subprocess.Popen:
    command = [
        PYTHON, "-m", "gunicorn", "benchmarks.webhook_wsgi:application",
        "--bind", f"127.0.0.1:{port}", "--workers", str(args.workers),
        "--backlog", "2048", "--log-level", "warning",
    ]  # fmt: skip
    server = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                if r.status == 200:
                    return server
        except OSError:
            time.sleep(0.3)
        if server.poll() is not None:
            sys.exit("gunicorn exited during start-up; see the error above")
    os.killpg(server.pid, signal.SIGTERM)
    sys.exit("gunicorn did not answer /healthz within 60 s")


def stop_server(server: subprocess.Popen) -> None:
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)


def setup_django(env: dict[str, str]) -> None:
    os.environ.update(env)
    import django

    django.setup()


def verify(expected_texts: int, expected_people: int) -> list[str]:
    """Every text sent to the real webhook stored once; every conversation with its outcome."""
    from triage.models import Conversation, Message

    problems = []
    stored = Message.objects.filter(direction=Message.Direction.INBOUND).count()
    distinct = (
        Message.objects.filter(direction=Message.Direction.INBOUND)
        .values("provider_sid")
        .distinct()
        .count()
    )
    if stored != expected_texts or distinct != expected_texts:
        problems.append(f"{stored} inbound rows ({distinct} sids) for {expected_texts} texts sent")
    outcomes = Conversation.objects.filter(outcome_at__isnull=False).count()
    if outcomes != expected_people:
        problems.append(f"{outcomes} outcomes for {expected_people} conversations")
    return problems


def queries_per_text() -> list[int]:
    """SQL statements each text of one more conversation costs, in process (same settings)."""
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from twilio.request_validator import RequestValidator

    client = Client()
    counts = []
    number = "+12125550199"
    for text in ROUTINE_EN:
        params = inbound_form(number, text, account_sid=ACCOUNT_SID, to=TO_NUMBER)
        url = settings.TWILIO_WEBHOOK_BASE_URL + "/twilio/inbound/"
        signature = RequestValidator(AUTH_TOKEN).compute_signature(url, params)
        with CaptureQueriesContext(connection) as ctx:
            response = client.post(
                "/twilio/inbound/", params, HTTP_X_TWILIO_SIGNATURE=signature,
                HTTP_HOST="127.0.0.1",
            )  # fmt: skip
        if response.status_code != 200:
            sys.exit(f"query count run: webhook answered {response.status_code}")
        counts.append(len(ctx.captured_queries))
    return counts


# ---------------------------------------------------------------- report


def report(runs: list[Run], args, info: dict[str, str], queries: list[int], problems) -> str:
    best: dict[str, Run] = {}
    for run in runs:
        if run.name not in best or run.rate > best[run.name].rate:
            best[run.name] = run
    insert = best["signature + INSERT"].rate
    lines = [
        BEGIN_MARK,
        "",
        f"- Date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        f"- Machine: {info['cpus']} CPUs ({info['cpu']}), {info['os']}; load average "
        f"{info['load']} before",
        f"- Software: Python {info['python']}, PostgreSQL {info['postgres']}, Django "
        f"{info['django']}, gunicorn {info['gunicorn']} ({args.workers} sync workers), cache "
        f"{'Redis' if args.redis_url != 'none' else 'local memory'}",
        f"- Code: {info['code']}",
        f"- Command: `{info['command']}`",
        f"- Load: {args.senders} concurrent senders x {args.people} people x {len(ROUTINE_EN)} "
        f"texts = {args.senders * args.people * len(ROUTINE_EN)} requests per URL per round, "
        f"{args.rounds} rounds, URLs in turn; client and server share the machine",
        "",
        "| URL | round | requests/s | p50 ms | p99 ms | errors | x INSERT baseline "
        "| CPU ms/request | CPU stolen |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        lines.append(
            f"| {run.name} | {run.round} | {run.rate:,.0f} | {run.pct(0.5) * 1000:.1f} | "
            f"{run.pct(0.99) * 1000:.1f} | {run.errors} | {run.rate / insert:.2f} | "
            f"{run.cpu_ms:.2f} | {run.steal_pct:.0f}% |"
        )
    real = best["real webhook"]
    paired, cpu_paired = [], []
    for round_no in sorted({r.round for r in runs}):
        of_round = {r.name: r for r in runs if r.round == round_no}
        base, mine = of_round["signature + INSERT"], of_round["real webhook"]
        paired.append(mine.rate / base.rate)
        if mine.cpu_ms:
            cpu_paired.append(base.cpu_ms / mine.cpu_ms)
    lines += [
        "",
        f"Best rounds: real webhook **{real.rate:,.0f} requests/s = {real.rate / insert:.2f}x** "
        f"the INSERT baseline ({insert:,.0f}/s; signature-only "
        f"{best['signature only'].rate:,.0f}/s), p99 {real.pct(0.99) * 1000:.1f} ms, "
        f"{sum(r.errors for r in runs)} errors in all.",
        "",
        f"Each round against its own baseline: real webhook / INSERT baseline requests/s, "
        f"median **{statistics.median(paired):.2f}x** "
        f"({', '.join(f'{x:.2f}' for x in paired)}); by machine CPU per request, INSERT "
        f"baseline / real webhook, median **{statistics.median(cpu_paired or [0]):.2f}x** "
        f"({', '.join(f'{x:.2f}' for x in cpu_paired)}): the throughput ratio with the CPUs "
        "to ourselves, whatever the hypervisor takes.",
        "",
        f"SQL statements per text, texts 1-{len(queries)} of a conversation: "
        f"{', '.join(map(str, queries))}.",
        "",
        "Checks: "
        + (
            "; ".join(problems)
            if problems
            else "every text sent to the real webhook stored exactly once, every "
            "conversation reached its outcome."
        ),
        "",
        END_MARK,
    ]
    return "\n".join(lines)


SECTION_INTRO = """## Inbound webhook

`benchmarks/webhook.py` (see benchmarks/README.md): gunicorn serving the project against
PostgreSQL and Redis, 16 concurrent senders each walking people through a whole routine
conversation with real Twilio signatures, against two baselines served by the same server in
the same run (signature check only; signature check plus one committed INSERT).

The block between the markers is rewritten by each run; the reading after it is not.
"""


def write_docs(block: str) -> None:
    docs_replace_block(block, begin=BEGIN_MARK, end=END_MARK, intro=SECTION_INTRO)


def machine_info(command: str) -> dict[str, str]:
    import gunicorn

    from benchmarks.dispatch import machine

    info = machine()
    info["gunicorn"] = gunicorn.__version__
    info["command"] = command
    return info


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    url = os.environ.get("DATABASE_URL", "")
    name, params = database_name(url)
    command = rerun_command("benchmarks.webhook", url, argv)
    recreate_database(name, params)
    port = free_port()
    env = server_environment(args, port)
    print(f"migrating {name} ...", flush=True)
    subprocess.run([PYTHON, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    setup_django(env)
    from django.core.cache import cache
    from django.db import connection

    from benchmarks.webhook_app import CREATE_TABLE

    with connection.cursor() as cursor:
        cursor.execute(CREATE_TABLE)
    cache.clear()
    info = machine_info(command)
    connection.close()

    server = start_server(args, env, port)
    runs: list[Run] = []
    try:
        # Warm-up: every worker imports, connects and caches the content once.
        warm = build_load(port, URLS["real webhook"], 4, 2, "3109")
        drive(warm, port, "warm-up", 0)
        for round_no in range(1, args.rounds + 1):
            for label, path in URLS.items():
                prefix = f"{2 + round_no}{list(URLS).index(label)}10"
                load = build_load(port, path, args.senders, args.people, prefix)
                run = drive(load, port, label, round_no)
                runs.append(run)
                print(
                    f"round {round_no} {label:20} {run.rate:8,.0f}/s  p50 "
                    f"{run.pct(0.5) * 1000:6.1f} ms  p99 {run.pct(0.99) * 1000:6.1f} ms  "
                    f"errors {run.errors}",
                    flush=True,
                )
    finally:
        stop_server(server)

    warm_texts = 4 * 2 * len(ROUTINE_EN)
    per_round = args.senders * args.people * len(ROUTINE_EN)
    problems = verify(
        warm_texts + per_round * args.rounds, 8 + args.senders * args.people * args.rounds
    )
    queries = queries_per_text()
    block = report(runs, args, info, queries, problems)
    print(block)
    if not args.no_docs:
        write_docs(block)
        print(f"written to {DOCS.relative_to(ROOT)}")
    connection.close()
    recreate_database(name, params, drop_only=True)
    if problems:
        sys.exit("checks failed: " + "; ".join(problems))


if __name__ == "__main__":
    main()
