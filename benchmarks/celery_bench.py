"""The project's Celery app with per-task instruments, for the dispatch benchmarks' workers.

    celery -A benchmarks.celery_bench worker ...   (started by benchmarks/dispatch_scale.py)

Same app, settings and tasks as `celery -A backpain_service`; in addition each pool process
counts the SQL statements every task runs (by kind, as benchmarks/dispatch_scale.py names
them), the rows it was handed and its wall time, and rewrites its totals after each task to
$BENCH_STATS_DIR/<pid>.json. That changes nothing a task does. Two experiments do, and only
when asked for: BENCH_DB_REUSE_MAX (dispatch_scale --db-reuse-max) sets CELERY_DB_REUSE_MAX,
and BENCH_RATE_MARGIN (ratelimit --margin) spaces the rate limit's slots wider.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from celery import signals

from backpain_service.celery import app

__all__ = ["app"]

_STATS_DIR = os.environ.get("BENCH_STATS_DIR")

if os.environ.get("BENCH_DB_REUSE_MAX"):
    # An experiment (dispatch_scale --db-reuse-max): Celery's Django fixup closes the database
    # connection before and after every task unless CELERY_DB_REUSE_MAX is set.
    from django.conf import settings

    settings.CELERY_DB_REUSE_MAX = int(os.environ["BENCH_DB_REUSE_MAX"])


def _space_slots_wider(margin: float) -> None:
    """An experiment (ratelimit --margin): slots (1 + margin) / CHECKIN_MAX_PER_SECOND apart, so
    that N + 1 consecutive texts span more than a second even when some leave a little late."""
    from django.conf import settings as django_settings

    import reminders.dispatch
    from reminders import ratelimit

    def get_limiter() -> ratelimit.RateLimiter:
        rate = float(django_settings.CHECKIN_MAX_PER_SECOND)
        return ratelimit._limiter(rate / (1 + margin), django_settings.REDIS_URL)

    reminders.dispatch.get_limiter = get_limiter


class _TaskStats:
    def __init__(self) -> None:
        self.tasks: Counter[str] = Counter()
        self.rows: Counter[str] = Counter()
        self.seconds: defaultdict[str, float] = defaultdict(float)
        self.statements: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self.current: str | None = None
        self.started = 0.0

    def __call__(self, execute, sql, params, many, context):
        from benchmarks.dispatch_scale import statement_kind

        if self.current is not None:
            self.statements[self.current][statement_kind(sql)] += 1
        return execute(sql, params, many, context)

    def dump(self) -> None:
        if not _STATS_DIR:
            return
        data = {
            "tasks": self.tasks,
            "rows": self.rows,
            "seconds": self.seconds,
            "statements": self.statements,
        }
        path = Path(_STATS_DIR) / f"{os.getpid()}.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data))
        tmp.replace(path)


_stats = _TaskStats()


@signals.worker_process_init.connect
def _install(**_: Any) -> None:
    from django.db import connection

    connection.execute_wrappers.append(_stats)
    if os.environ.get("BENCH_RATE_MARGIN"):
        _space_slots_wider(float(os.environ["BENCH_RATE_MARGIN"]))


@signals.task_prerun.connect
def _task_started(task: Any = None, args: Any = None, **_: Any) -> None:
    _stats.current = task.name.rsplit(".", 1)[-1] if task else "?"
    _stats.started = time.perf_counter()
    if args and isinstance(args[0], list):
        _stats.rows[_stats.current] += len(args[0])


@signals.task_postrun.connect
def _task_finished(**_: Any) -> None:
    name = _stats.current or "?"
    _stats.tasks[name] += 1
    _stats.seconds[name] += time.perf_counter() - _stats.started
    _stats.current = None
    _stats.dump()
