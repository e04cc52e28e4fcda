"""Fixtures for the fault tests: PRIVATE Redis and PostgreSQL servers that a test may stop,
pause and restart, and the figures the tests measured, printed at the end of the run.

The shared services (REDIS_URL, DATABASE_URL) are never stopped: other test runs use them.
A private server is started from the binaries on this machine, on a free port on 127.0.0.1,
once per session. A missing binary skips its tests with the reason on a developer's machine
and fails them under CI=true (the CI machine installs both).
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import in_ci
from tests.faults.support import FIGURES, ROOT


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    if FIGURES:
        terminalreporter.section("fault figures (copy into docs/reliability.md)")
        for line in FIGURES:
            terminalreporter.write_line(line)


def missing(what: str) -> None:
    """Fail under CI (a missing tool must not turn into a pass), skip on a developer machine."""
    if in_ci():
        pytest.fail(f"{what}; CI must run the fault tests (apt-get install it)")
    pytest.skip(what)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, *, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"nothing listening on 127.0.0.1:{port} after {seconds:.0f} s")


# ---------------------------------------------------------------- Redis


class PrivateRedis:
    """A redis-server of our own: stop() ends it (connections refused), pause() freezes it
    (connections hang: SIGSTOP), start() brings it back on the same port, empty."""

    def __init__(self, binary: str) -> None:
        self.binary = binary
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        assert self.process is None or self.process.poll() is not None
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.resume()
            self.process.terminate()
            self.process.wait(timeout=10)

    def pause(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)


@pytest.fixture(scope="session")
def private_redis() -> Iterator[PrivateRedis]:
    binary = shutil.which("redis-server")
    if binary is None:
        missing("redis-server is not installed (Debian package redis-server)")
    server = PrivateRedis(binary)  # type: ignore[arg-type]
    server.start()
    try:
        yield server
    finally:
        server.stop()


# ---------------------------------------------------------------- PostgreSQL


def postgres_bindir() -> str | None:
    """PG_BINDIR, or the newest /usr/lib/postgresql/*/bin, or initdb on PATH."""
    if os.environ.get("PG_BINDIR"):
        return os.environ["PG_BINDIR"]
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    if found:
        return str(Path(found[-1]).parent)
    initdb = shutil.which("initdb")
    return str(Path(initdb).parent) if initdb else None


class PrivatePostgres:
    """A PostgreSQL cluster of our own in a temporary directory, tuned for speed over safety
    (fsync off: a crash of the machine loses it, which is fine for a throwaway cluster).

    initdb refuses to run as root, so as root the cluster belongs to the `postgres` user and
    every server command runs through `runuser -u postgres --`.
    """

    DB = "faults"

    def __init__(self, bindir: str) -> None:
        self.bindir = bindir
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="backcheck-faults-pg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "server.log"
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            runuser = shutil.which("runuser")
            if runuser is None:
                raise RuntimeError("running as root needs runuser to start PostgreSQL")
            shutil.chown(self.dir, user="postgres")
            self.as_user = [runuser, "-u", "postgres", "--"]
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/{self.DB}"

    def _run(self, tool: str, *args: str) -> None:
        command = [*self.as_user, str(Path(self.bindir) / tool), *args]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            log = self.log.read_text() if self.log.exists() else ""
            raise RuntimeError(f"{tool} failed: {result.stdout}{result.stderr}\n{log[-2000:]}")

    def init(self) -> None:
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        )
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(self.port),
            "unix_socket_directories": f"'{self.dir}'",
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "shared_buffers": "16MB",
            "max_connections": "30",
            "logging_collector": "off",
        }
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())

    def pg_ctl(self, *args: str) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", *args)

    def start(self) -> None:
        self.pg_ctl("start")

    def restart(self) -> None:
        """`pg_ctl restart -m fast`: every connection is cut, open transactions roll back."""
        self.pg_ctl("restart", "-m", "fast")

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self.pg_ctl("stop", "-m", "immediate")

    def create_database(self) -> None:
        import psycopg

        with psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname="postgres", autocommit=True
        ) as conn:
            conn.execute(f"CREATE DATABASE {self.DB}")

    def migrate(self) -> None:
        env = {**os.environ, "DATABASE_URL": self.url, "LOG_LEVEL": "WARNING"}
        env.pop("REDIS_URL", None)
        result = subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if result.returncode != 0:
            raise RuntimeError(f"migrate failed:\n{result.stdout}{result.stderr}")

    def connect(self):
        import psycopg

        return psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname=self.DB, autocommit=True
        )


@pytest.fixture(scope="session")
def private_postgres() -> Iterator[PrivatePostgres]:
    """A migrated database on a private cluster that tests may restart."""
    bindir = postgres_bindir()
    if bindir is None or not Path(bindir, "pg_ctl").exists():
        missing("PostgreSQL server binaries (initdb, pg_ctl) not found; set PG_BINDIR")
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        missing("running as root, and runuser (util-linux) is missing")
    server = PrivatePostgres(bindir)  # type: ignore[arg-type]
    try:
        server.init()
        server.start()
        server.create_database()
        server.migrate()
        yield server
    finally:
        try:
            server.stop()
        finally:
            shutil.rmtree(server.dir, ignore_errors=True)
