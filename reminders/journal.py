"""The send journal: which check-ins the provider has taken, kept in Redis outside the
dispatcher's database transaction.

The dispatcher records a check-in as sent in the transaction of its chunk, after the text went
out. A worker killed in between leaves texts that went out but are not on record; without more,
they would go again when the claim's lease runs out. So right after Twilio takes each text the
dispatcher writes one key here (check-in -> message sid), and before sending a check-in that a
worker lost (reclaimed after its lease ran out, or handed back after a failed chunk) it reads
the key: a check-in found here is recorded as sent with that sid instead of being sent again.
What is left is a text in flight at the moment of the kill (taken by Twilio, key not yet
written): at most one per killed worker.

The journal only ever prevents a send: an entry exists only for a text Twilio took. So it is
never allowed to stop one. With Redis unreachable a send goes on unjournaled (logged, counted
in the pass's summary); for RETRY_SECONDS after a failure, writes are not tried, so a hung
Redis costs one socket timeout, not one per text. Without REDIS_URL there is no journal and a
killed worker's last chunk can go twice (docs/reliability.md, "Faults").

A key names the check-in by its id and its `journal_key`, the random token of its first claim:
an entry left by another database that reuses the id (a restored backup, a test database made
again) can never match.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any, Protocol

from django.conf import settings

log = logging.getLogger(__name__)

PREFIX = "backcheck:checkin-sent:"
# Long enough to outlast any outage between a worker dying and its check-ins being claimed
# again; entries are deleted once their chunk commits, so only lost sends stay this long.
TTL_SECONDS = 7 * 24 * 3600
RETRY_SECONDS = 30.0


class JournaledRow(Protocol):
    pk: Any
    journal_key: Any


# The value of an attempt that has no sid yet.
ATTEMPTED = "?"


@dataclass(frozen=True)
class Entry:
    sid: str | None  # None: attempted, and the worker died before Twilio's answer was noted
    sent_at: dt.datetime  # when Twilio took it, or when the attempt began


def journal_entry_key(row: JournaledRow) -> str | None:
    if row.journal_key is None:
        return None
    return f"{PREFIX}{row.journal_key.hex}:{row.pk}"


class SendJournal:
    """attempt() before each send, record() after it, lookup() before sending a lost check-in,
    forget() once the chunk's rows are committed. None of them raises: Redis errors are logged
    and swallowed."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self._lock = threading.Lock()
        self._retry_at = 0.0

    def _available(self) -> bool:
        return time.monotonic() >= self._retry_at

    def _failed(self, action: str, exc: Exception) -> None:
        with self._lock:
            self._retry_at = time.monotonic() + RETRY_SECONDS
        log.error(
            "send journal: %s failed (%s); texts go out unjournaled for %.0f s, and a worker "
            "killed meanwhile may repeat its last chunk",
            action,
            exc,
            RETRY_SECONDS,
        )

    def attempt(self, row: JournaledRow, at: dt.datetime) -> bool:
        """Note that `row`'s text is about to go to Twilio. False if it could not be noted."""
        return self._write([(row, ATTEMPTED)], at)

    def record(
        self,
        row: JournaledRow,
        sid: str,
        sent_at: dt.datetime,
        *,
        then_attempt: JournaledRow | None = None,
    ) -> bool:
        """Note that Twilio took `row`'s text as `sid` (and, in the same round trip, the
        attempt of `then_attempt`, the next text to go). False if it could not be noted."""
        writes = [(row, sid)]
        if then_attempt is not None and then_attempt.journal_key is not None:
            writes.append((then_attempt, ATTEMPTED))
        return self._write(writes, sent_at)

    def _write(self, writes: list[tuple[JournaledRow, str]], at: dt.datetime) -> bool:
        keyed = [(key, sid) for row, sid in writes if (key := journal_entry_key(row))]
        if len(keyed) < len(writes) or not self._available():
            return False  # the first has no key (never claimed), or Redis is resting
        try:
            if len(keyed) == 1:
                key, sid = keyed[0]
                self._client.set(key, f"{sid} {at.timestamp():.6f}", ex=TTL_SECONDS)
            else:
                pipe = self._client.pipeline(transaction=False)
                for key, sid in keyed:
                    pipe.set(key, f"{sid} {at.timestamp():.6f}", ex=TTL_SECONDS)
                pipe.execute()
        except Exception as exc:  # noqa: BLE001 - a journal problem must never stop a send
            self._failed("a write", exc)
            return False
        return True

    def lookup(self, rows: Iterable[JournaledRow]) -> dict[Any, Entry]:
        """Entries for those of `rows` whose text was attempted or taken; {} when Redis cannot
        say.

        Tried even while writes are paused: it runs only for lost check-ins, and each entry it
        finds is a text not sent twice.
        """
        keyed = [(row.pk, key) for row in rows if (key := journal_entry_key(row))]
        if not keyed:
            return {}
        try:
            values = self._client.mget([key for _, key in keyed])
        except Exception as exc:  # noqa: BLE001 - unreadable: send again (at least once)
            self._failed("a lookup", exc)
            return {}
        found: dict[Any, Entry] = {}
        for (pk, key), value in zip(keyed, values, strict=True):
            if value is None:
                continue
            entry = _parse(value)
            if entry is None:
                log.error("send journal: unreadable entry %s=%r, ignored", key, value)
                continue
            found[pk] = entry
        return found

    def forget(self, rows: Iterable[JournaledRow]) -> None:
        """Drop the entries of rows now recorded in the database (only to save memory)."""
        keys = [key for row in rows if (key := journal_entry_key(row))]
        if not keys or not self._available():
            return
        try:
            self._client.unlink(*keys)
        except Exception as exc:  # noqa: BLE001 - they expire on their own
            self._failed("a delete", exc)


def _parse(value: bytes | str) -> Entry | None:
    text = value.decode() if isinstance(value, bytes) else value
    sid, _, stamp = text.partition(" ")
    try:
        sent_at = dt.datetime.fromtimestamp(float(stamp), tz=dt.UTC)
    except (ValueError, OverflowError, OSError):
        return None
    if not sid:
        return None
    return Entry(None if sid == ATTEMPTED else sid, sent_at)


@cache
def _journal(redis_url: str) -> SendJournal:
    import redis

    from backpain_service.env import REDIS_SOCKET_TIMEOUT

    # Written while a chunk holds its people's row locks: a hung Redis must fail fast.
    client = redis.Redis.from_url(
        redis_url,
        socket_connect_timeout=REDIS_SOCKET_TIMEOUT,
        socket_timeout=REDIS_SOCKET_TIMEOUT,
    )
    return SendJournal(client)


def get_journal() -> SendJournal | None:
    """The journal on REDIS_URL; None without Redis (one embedded process, nothing to share)."""
    return _journal(settings.REDIS_URL) if settings.REDIS_URL else None
