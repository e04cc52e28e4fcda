#!/usr/bin/env python3
"""Developer entry point that needs nothing but Python 3.11+ (standard library only).

    python3 dev.py run [--port 8000]    migrate, then serve on http://127.0.0.1:8000, with a
                                        Celery worker (beat embedded) sending due check-ins
    python3 dev.py test [pytest args]   run the test suite
    python3 dev.py chat +15551230000    text the service from the terminal
    python3 dev.py manage <command>     any manage.py command, e.g. createsuperuser
    python3 dev.py bench [--quick]      every benchmark, figures to docs/benchmarks.md

Each command first creates .venv and installs the project into it, re-installing
only when pyproject.toml changed since the last install.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import signal
import subprocess
import sys
import time
import venv
from collections.abc import Iterator, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PYPROJECT = ROOT / "pyproject.toml"
STAMP = VENV / ".backcheck-installed"
# Beside .venv, not in it: it must exist before .venv does.
LOCK = ROOT / "var" / "dev-install.lock"

USAGE = """\
usage: python3 dev.py <command> [args]

commands:
  run [--port N] [--no-worker]
                        migrate, then run the service on http://127.0.0.1:8000 and a
                        check-in worker next to it (--no-worker: the web app only)
  test [pytest args]    run the tests (exit status is pytest's)
  chat PHONE            chat with the service in the terminal, e.g. chat +15551230000
  manage ARGS           run any manage.py command, e.g. manage createsuperuser
  bench [--quick]       run every benchmark and write docs/benchmarks.md (needs Postgres)
"""


def say(message: str) -> None:
    print(f"[dev.py] {message}", flush=True)


def venv_python() -> Path:
    if os.name == "nt":
        return VENV / "Scripts" / "python.exe"
    return VENV / "bin" / "python"


def ensure_venv() -> None:
    if venv_python().exists():
        return
    say(f"Creating a virtual environment in {VENV} ...")
    venv.EnvBuilder(with_pip=True).create(VENV)


@contextlib.contextmanager
def install_lock() -> Iterator[None]:
    """Held while .venv is created or installed into, so `dev.py run` and `dev.py test` started
    together (two terminals) wait for one install instead of both writing into .venv at once."""
    LOCK.parent.mkdir(exist_ok=True)
    with LOCK.open("a+b") as handle:
        if os.name == "nt":
            import msvcrt

            handle.seek(0)
            while True:
                try:
                    msvcrt.locking(handle.fileno(), msvcrt.LK_LOCK, 1)
                    break
                except OSError:  # LK_LOCK gives up after about 10 s; keep waiting
                    continue
        else:
            import fcntl

            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            if os.name == "nt":
                handle.seek(0)
                msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
            else:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def ensure_installed() -> None:
    with install_lock():
        _ensure_installed()


def _ensure_installed() -> None:
    ensure_venv()
    wanted = hashlib.sha256(PYPROJECT.read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text().strip() == wanted:
        return
    say("Installing backcheck and its dependencies into .venv (pyproject.toml changed) ...")
    status = subprocess.call(
        [str(venv_python()), "-m", "pip", "install", "--disable-pip-version-check", "-e", ".[dev]"],
        cwd=ROOT,
    )
    if status != 0:
        say("pip install failed; fix the error above and run the command again.")
        say(f"(If .venv itself is broken, delete {VENV} and retry.)")
        sys.exit(status)
    # Written only after a successful install, so a failed one is retried next time.
    STAMP.write_text(wanted + "\n")


def dev_environment() -> dict[str, str]:
    env = dict(os.environ)
    # Settings default to DEBUG=false for safety in production; locally we want
    # the insecure dev SECRET_KEY and runserver's static files.
    env.setdefault("DEBUG", "true")
    return env


def run_python(args: Sequence[str], env: dict[str, str] | None = None) -> int:
    try:
        return subprocess.call([str(venv_python()), *args], cwd=ROOT, env=env)
    except KeyboardInterrupt:
        return 130


def manage(args: Sequence[str], env: dict[str, str]) -> int:
    return run_python(["manage.py", *args], env=env)


def migrate(env: dict[str, str], quiet: bool = False) -> None:
    say("Applying database migrations ...")
    status = manage(["migrate", "--noinput", *(["--verbosity", "0"] if quiet else [])], env)
    if status != 0:
        say("migrate failed; see the error above.")
        sys.exit(status)


def worker_commands() -> list[list[str]]:
    """The check-in dispatcher: a Celery worker with beat, on REDIS_URL or else kombu's
    filesystem transport in var/celery-queue (settings.py), so no server is needed."""
    celery = [str(venv_python()), "-m", "celery", "-A", "backpain_service"]
    # One process, no broadcast chatter: all a single developer machine needs.
    worker = [
        *celery,
        "worker",
        "--pool",
        "solo",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "--hostname",
        "dev@%h",
    ]
    (ROOT / "var").mkdir(exist_ok=True)  # settings create it only for SQLite or no Redis
    beat_schedule = ["--schedule", str(ROOT / "var" / "celerybeat-schedule")]
    # WARNING keeps one dispatch pass a minute out of the terminal; texts still show (the console
    # SMS backend's lines are logged as warnings). LOG_LEVEL=INFO shows every pass.
    log = ["--loglevel", os.environ.get("LOG_LEVEL") or "WARNING"]
    if os.name == "nt":
        # Celery cannot embed beat in a worker on Windows: run it as a second process.
        return [[*worker, *log], [*celery, "beat", *beat_schedule, *log]]
    return [[*worker, "--beat", *beat_schedule, *log]]


def start(command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    # Its own process group on POSIX, so stop() reaches runserver's autoreloaded child and
    # celery's beat process too, however dev.py itself was stopped.
    return subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=os.name == "posix")


def stop(processes: Sequence[subprocess.Popen[bytes]]) -> None:
    """Ask each process (group) to stop (SIGTERM), then kill what still runs after 15 s.

    The worker finishes the text it is sending; killed mid-batch, the batch's unrecorded
    texts are sent again once their lease expires (README, Check-ins).
    """
    # SIGTERM, not SIGINT: a child started in the background may have inherited SIGINT ignored.
    for sig, grace in ((signal.SIGTERM, 15.0), (getattr(signal, "SIGKILL", None), 5.0)):
        running = [p for p in processes if p.poll() is None]
        for process in running:
            try:
                if os.name == "posix":
                    os.killpg(process.pid, sig)
                elif sig == signal.SIGTERM:
                    process.terminate()
                else:
                    process.kill()
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + grace
        try:
            for process in running:
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except (subprocess.TimeoutExpired, KeyboardInterrupt):
            pass  # what still runs is killed next; a second Ctrl-C skips the grace period
    for process in processes:
        if process.poll() is None:
            say(f"pid {process.pid} did not stop: {process.args}")


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def cmd_run(args: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python3 dev.py run")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument(
        "--no-worker",
        action="store_true",
        help="serve the web app only; no check-ins are sent (see README, Check-ins)",
    )
    options = parser.parse_args(args)
    env = dev_environment()
    if not env.get("DATABASE_URL"):
        say("DATABASE_URL is not set: using SQLite at var/db.sqlite3")
    migrate(env)
    # `kill <pid>` and a closed terminal stop the children too, like Ctrl-C does.
    stop_signals = [signal.SIGTERM, *([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])]
    for sig in stop_signals:
        signal.signal(sig, _interrupt)
    workers: list[subprocess.Popen[bytes]] = []
    server: subprocess.Popen[bytes] | None = None
    status = 0
    try:
        if options.no_worker:
            say("--no-worker: check-ins are not sent while this runs")
        else:
            broker = "Redis (REDIS_URL)" if env.get("REDIS_URL") else "var/celery-queue"
            say(f"Starting the check-in worker: Celery worker + beat, broker {broker}")
            workers = [start(command, env) for command in worker_commands()]
        say(
            f"Starting BackCheck on http://127.0.0.1:{options.port}/ "
            "(admin at /admin/; Ctrl-C stops)"
        )
        server = start(
            [str(venv_python()), "manage.py", "runserver", f"127.0.0.1:{options.port}"], env
        )
        reported = set()
        while (status := server.poll()) is None:
            for worker in workers:
                if worker.pid not in reported and worker.poll() is not None:
                    reported.add(worker.pid)
                    say(
                        f"The check-in worker stopped (exit status {worker.returncode}); "
                        "check-ins are not sent. See its error above, then restart dev.py run."
                    )
            try:
                server.wait(timeout=1)
            except subprocess.TimeoutExpired:
                pass
    except KeyboardInterrupt:
        status = 130
    finally:
        for sig in stop_signals:
            signal.signal(sig, signal.SIG_IGN)  # let the children stop in peace
        stop([*([server] if server else []), *workers])
    return status


def cmd_test(args: Sequence[str]) -> int:
    # Tests get their own settings overrides (backpain_service/testenv.py), not dev ones.
    return run_python(["-m", "pytest", *args], env=dict(os.environ))


def cmd_chat(args: Sequence[str]) -> int:
    env = dev_environment()
    # Quiet, so the conversation is not buried under migration output.
    migrate(env, quiet=True)
    return manage(["chat", *args], env)


def cmd_manage(args: Sequence[str]) -> int:
    return manage(args, dev_environment())


# Each benchmark drops and re-creates its own database (the name must contain "bench").
BENCHMARKS = (
    ("benchmarks.webhook", "backcheck_webhook_bench"),
    ("benchmarks.dispatch", "backcheck_bench"),
    ("benchmarks.dispatch_scale", "backcheck_scale_bench"),
    ("benchmarks.ratelimit", "backcheck_rate_bench"),
)


def cmd_bench(args: Sequence[str]) -> int:
    """Every benchmark in turn, writing docs/benchmarks.md (benchmarks/README.md); about 20
    minutes. Needs PostgreSQL (BENCH_POSTGRES, default postgres://postgres@127.0.0.1:5432) and
    Redis on localhost; extra arguments (e.g. --quick) go to the scale and rate benchmarks."""
    server = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432").rstrip("/")
    for module, database in BENCHMARKS:
        say(f"{module} ...")
        env = {**os.environ, "DATABASE_URL": f"{server}/{database}"}
        scaled = module in ("benchmarks.dispatch_scale", "benchmarks.ratelimit")
        extra = list(args) if scaled else []
        status = run_python(["-m", module, *extra], env=env)
        if status != 0:
            say(f"{module} failed (exit status {status})")
            return status
    return 0


COMMANDS = {
    "run": cmd_run,
    "test": cmd_test,
    "chat": cmd_chat,
    "manage": cmd_manage,
    "bench": cmd_bench,
}


def main(argv: Sequence[str]) -> int:
    # Checked at run time: this file is run by whichever python3 is on PATH.
    if sys.version_info < (3, 11):  # noqa: UP036
        print("BackCheck needs Python 3.11 or newer.", file=sys.stderr)
        return 2
    if not argv or argv[0] not in COMMANDS:
        print(USAGE, file=sys.stderr)
        return 0 if argv and argv[0] in ("-h", "--help", "help") else 2
    ensure_installed()
    return COMMANDS[argv[0]](argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
