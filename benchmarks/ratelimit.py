"""The send-rate limit under real workers: never more than CHECKIN_MAX_PER_SECOND texts in any
one-second window, as Twilio receives them.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/backcheck_rate_bench \\
        .venv/bin/python -m benchmarks.ratelimit [--count 600] [--rate 10] [--workers 3]

benchmarks/README.md explains it in full. In short: a fresh database (its name must contain
"bench") with --count due check-ins; a Celery worker with --workers pool processes sharing the
Redis rate limit (--redis-url, FLUSHDB'd: never db 0), CHECKIN_MAX_PER_SECOND=--rate; beat
replaced by calling `dispatch_due_checkins()` here; the fake Twilio (benchmarks/fake_twilio.py
--record-times) notes when each request arrives. The figure is the largest number of requests
in any window [t, t + 1 s) over the whole run; the benchmark fails (exit status 1) if it is
above --rate. Also checks every check-in was sent exactly once. --quick: 150 texts.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.dispatch import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    DOCS,
    ROOT,
    database_name,
    docs_replace_block,
    machine,
    recreate_database,
    rerun_command,
)
from benchmarks.dispatch_scale import (
    DEFAULT_REDIS_URL,
    Workers,
    flush_redis,
    load_average,
    load_schedule,
    redis_database,
    sent_count,
    setup_django,
    truncate,
    verify,
    worker_env,
)
from benchmarks.fake_twilio import FakeTwilioProcess

BEGIN_MARK = "<!-- ratelimit:begin (written by benchmarks/ratelimit.py) -->"
END_MARK = "<!-- ratelimit:end -->"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.ratelimit",
        description="Check the shared send-rate limit with several Celery worker processes.",
    )
    parser.add_argument("--count", type=int, default=600, help="due check-ins (default 600)")
    parser.add_argument("--rate", type=float, default=10, help="CHECKIN_MAX_PER_SECOND")
    parser.add_argument("--workers", type=int, default=3, help="Celery pool processes")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL, help="FLUSHDB'd; not db 0")
    parser.add_argument(
        "--margin",
        type=float,
        default=0.0,
        help="experiment: space the workers' slots (1 + MARGIN) / rate apart (default 0: as "
        "reminders/ratelimit.py does)",
    )
    parser.add_argument("--quick", action="store_true", help="150 texts")
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--no-docs", action="store_true")
    args = parser.parse_args(argv)
    if args.quick:
        args.count = 150
    if args.count < 2 or args.rate <= 0 or args.workers < 1:
        parser.error("need --count >= 2, --rate > 0, --workers >= 1")
    return args


def max_in_window(times: list[float], width: float = 1.0) -> tuple[int, float]:
    """The most arrivals in any half-open window [t, t + width), and where it starts. The
    busiest window can always be slid to start at an arrival, so only those are tried."""
    times = sorted(times)
    best, start, j = 0, times[0] if times else 0.0, 0
    for i, t in enumerate(times):
        if j < i:
            j = i
        while j < len(times) and times[j] < t + width:
            j += 1
        if j - i > best:
            best, start = j - i, t
    return best, start


def windows_over(times: list[float], limit: int, width: float = 1.0) -> int:
    """How many arrivals start a window [t, t + width) holding more than `limit`."""
    times = sorted(times)
    over, j = 0, 0
    for i, t in enumerate(times):
        j = max(j, i)
        while j < len(times) and times[j] < t + width:
            j += 1
        over += j - i > limit
    return over


def run(args: argparse.Namespace, fake: FakeTwilioProcess, workers: Workers) -> dict:
    from reminders.tasks import dispatch_due_checkins

    load_schedule(args.count, args.count)
    fake.reset()
    started = time.perf_counter()
    passes = []
    # One pass claims at most what the limit sends in half a lease; beat would call again.
    while sent_count() < args.count:
        passes.append(dispatch_due_checkins())
        deadline = time.perf_counter() + 60
        while sent_count() < args.count and time.perf_counter() < deadline:
            if workers.process is None or workers.process.poll() is not None:
                raise SystemExit("the Celery worker died:\n" + workers.log()[-3000:])
            time.sleep(0.5)
        if time.perf_counter() - started > args.count / args.rate * 3 + 120:
            raise SystemExit(f"too slow: {sent_count()} of {args.count} sent")
    wall = time.perf_counter() - started
    times = sorted(fake.times())
    if os.environ.get("BENCH_DEBUG"):
        print([round(t - times[0], 3) for t in times[:40]])
    checks = verify(args.count, args.count, fake)
    return {"times": times, "wall": wall, "passes": passes, "checks": checks}


def report(args: argparse.Namespace, info: dict, result: dict, ctx: dict) -> tuple[str, bool]:
    times = result["times"]
    limit = int(args.rate)
    most, at = max_in_window(times)
    over = windows_over(times, limit)
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    span = times[-1] - times[0]
    ok = most <= args.rate
    lines = [
        "",
        f"- Date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        f"- Machine: {info['cpus']} CPUs ({info['cpu']}); load average {ctx['load_before']} "
        f"before, {ctx['load_after']} after",
        f"- Code: {info['code']}",
        f"- Command: `{ctx['command']}`",
        f"- Set-up: one `celery worker --concurrency {args.workers}` (prefork: {args.workers} "
        f"processes sending at once), CHECKIN_MAX_PER_SECOND={args.rate:g} through the Redis "
        f"limiter (db {redis_database(args.redis_url)}), {args.count} due check-ins, "
        f"`dispatch_due_checkins()` called {len(result['passes'])} time(s)"
        + (f"; experiment: slots (1 + {args.margin:g}) / rate apart" if args.margin else ""),
        "",
        "| Texts | First to last request | Mean rate | Most in any 1 s window | Windows over "
        "the limit | Smallest gap | Median gap | Result |",
        "|---:|---:|---:|---:|---:|---:|---:|---|",
        f"| {len(times)} | {span:.2f} s | {(len(times) - 1) / span:.2f}/s | **{most}** "
        f"(from +{at - times[0]:.3f} s) | {over} | {min(gaps) * 1000:.1f} ms | "
        f"{statistics.median(gaps) * 1000:.1f} ms | {'ok' if ok else f'**FAIL: above {limit}**'} |",
        "",
        "Times are the fake Twilio's arrival times (time.time() once the request is read). A "
        "window is [t, t + 1 s); the busiest always starts at a request, so every request's is "
        "counted.",
        "",
        "Checks:",
        "",
        *[f"- {c}" for c in result["checks"]],
        "",
    ]
    return "\n".join(lines), ok


SECTION_INTRO = """## Send-rate limit with several workers

`benchmarks/ratelimit.py` (see benchmarks/README.md) sends due check-ins through several Celery
pool processes that share the Redis rate limit (CHECKIN_MAX_PER_SECOND) and counts, from the
fake Twilio's arrival times, the most requests in any one-second window. It fails if that is
above the configured rate.

The block between the markers is rewritten by each run; the reading after it is not.
"""


def write_docs(block: str) -> None:
    docs_replace_block(
        f"{BEGIN_MARK}\n{block}\n{END_MARK}", begin=BEGIN_MARK, end=END_MARK, intro=SECTION_INTRO
    )


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    url = os.environ.get("DATABASE_URL", "")
    name, params = database_name(url)
    redis_database(args.redis_url)
    command = rerun_command("benchmarks.ratelimit", url, argv)
    ctx = {"command": command, "load_before": load_average()}
    recreate_database(name, params)
    flush_redis(args.redis_url)
    ok = False
    try:
        with (
            tempfile.TemporaryDirectory(prefix="ratelimit-") as folder,
            FakeTwilioProcess(ACCOUNT_SID, AUTH_TOKEN, record_times=True) as fake,
        ):
            setup_django(fake.url, args.redis_url, args.rate, 100)
            info = machine()
            env = worker_env(url, args.redis_url, fake.url, args.rate)
            if args.margin:
                env["BENCH_RATE_MARGIN"] = str(args.margin)
            with Workers(env, args.workers, "prefork", Path(folder)) as workers:
                truncate()
                result = run(args, fake, workers)
            ctx["load_after"] = load_average()
            block, ok = report(args, info, result, ctx)
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
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
