"""The send-rate limit: at most CHECKIN_MAX_PER_SECOND texts a second across every dispatcher.

`reserve(n)` books n send slots, `interval` apart, and returns how long to wait for the first.
Reservations must never overlap, within one limiter, across threads, and (with Redis) across
limiter instances in different workers. Nothing here measures elapsed wall-clock time: the local
limiter runs on a fake monotonic clock, and Redis reservations are placed on the Redis server's
own clock, read just before and just after each call.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import redis
import time_machine
from django.core.management import call_command

from reminders import dispatch, ratelimit
from reminders.ratelimit import LocalRateLimiter, RedisRateLimiter, get_limiter
from tests.scripts import ROUTINE_EN as ROUTINE
from triage.services import conversation_handle_inbound
from triage.sms import send_sms

# ---------------------------------------------------------------- in one process


def test_local_reservations_follow_each_other(fake_clock) -> None:
    limiter = LocalRateLimiter(10)  # a slot every 0.1 s

    assert limiter.reserve(3) == 0.0  # slots at 0.0, 0.1, 0.2
    assert limiter.reserve(2) == pytest.approx(0.3)  # 0.3, 0.4
    assert limiter.reserve(1) == pytest.approx(0.5)

    fake_clock.now += 0.25  # the wait shrinks as time passes
    assert limiter.reserve(1) == pytest.approx(0.35)  # the slot at 0.6


def test_an_idle_local_limiter_saves_up_no_burst(fake_clock) -> None:
    limiter = LocalRateLimiter(10)
    limiter.reserve(1)

    fake_clock.now += 60
    assert limiter.reserve(5) == 0.0
    assert limiter.reserve(1) == pytest.approx(0.5)


def test_concurrent_local_reservations_get_distinct_slots(fake_clock) -> None:
    limiter = LocalRateLimiter(10)
    waits: list[float] = []
    lock = threading.Lock()

    def reserve_five() -> None:
        for _ in range(5):
            wait = limiter.reserve(1)
            with lock:
                waits.append(wait)

    threads = [threading.Thread(target=reserve_five) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(waits) == pytest.approx([n * 0.1 for n in range(40)])


def test_no_limit_means_no_wait(settings) -> None:
    settings.CHECKIN_MAX_PER_SECOND = 0
    assert get_limiter().reserve(1000) == 0.0


# ---------------------------------------------------------------- shared through Redis


@pytest.fixture
def redis_client(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[redis.Redis]:
    """A Redis client, with the limiter's key moved to one of this test's own."""
    key = f"backcheck:sms-rate:test-{uuid.uuid4().hex}"
    monkeypatch.setattr(ratelimit, "KEY", key)
    client = redis.Redis.from_url(redis_url)
    yield client
    client.delete(key)
    client.close()


@dataclass(frozen=True)
class Booking:
    """When a reservation's first slot starts on the Redis clock, in microseconds: somewhere
    between `earliest` and `latest` (the clock read just before and just after the call)."""

    earliest: int
    latest: int
    wait: float


def book(limiter: RedisRateLimiter, client: redis.Redis, n: int) -> Booking:
    seconds, micros = client.time()
    before = seconds * 1_000_000 + micros
    wait = limiter.reserve(n)
    seconds, micros = client.time()
    after = seconds * 1_000_000 + micros
    waited = round(wait * 1_000_000)
    return Booking(before + waited, after + waited, wait)


def starts_right_after(later: Booking, earlier: Booking, slots: int, interval_us: int) -> bool:
    """`later` can start exactly where `earlier`'s `slots` slots end, and not before."""
    end_earliest = earlier.earliest + slots * interval_us
    end_latest = earlier.latest + slots * interval_us
    return later.latest >= end_earliest and later.earliest <= end_latest


def test_redis_reservations_from_two_workers_never_overlap(redis_url, redis_client) -> None:
    worker_a = RedisRateLimiter(1, redis_url)  # a slot every second
    worker_b = RedisRateLimiter(1, redis_url)
    second = 1_000_000

    a1 = book(worker_a, redis_client, 3)
    b1 = book(worker_b, redis_client, 2)
    a2 = book(worker_a, redis_client, 1)

    assert a1.wait == 0.0  # nothing booked yet: go now
    assert starts_right_after(b1, a1, 3, second)
    assert starts_right_after(a2, b1, 2, second)


def test_concurrent_redis_reservations_get_distinct_slots(redis_url, redis_client) -> None:
    interval_us = 10_000_000  # a slot every 10 s: far wider than any call takes
    limiters = [RedisRateLimiter(0.1, redis_url) for _ in range(2)]
    bookings: list[Booking] = []
    lock = threading.Lock()

    def reserve_five(limiter: RedisRateLimiter) -> None:
        client = redis.Redis.from_url(redis_url)
        for _ in range(5):
            booking = book(limiter, client, 1)
            with lock:
                bookings.append(booking)
        client.close()

    threads = [threading.Thread(target=reserve_five, args=(lim,)) for lim in limiters * 2]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    first = min(b.earliest for b in bookings)
    slot_numbers = sorted(
        round(((b.earliest + b.latest) / 2 - first) / interval_us) for b in bookings
    )
    assert slot_numbers == list(range(20))


def test_with_redis_url_every_dispatcher_shares_the_redis_limiter(settings, redis_url) -> None:
    settings.CHECKIN_MAX_PER_SECOND = 5
    ratelimit._limiter.cache_clear()
    try:
        limiter = get_limiter()
        assert isinstance(limiter, RedisRateLimiter)
        assert limiter.interval == pytest.approx(0.2 * (1 + ratelimit.SAFETY_MARGIN))
        settings.REDIS_URL = None
        assert isinstance(get_limiter(), LocalRateLimiter)
    finally:
        ratelimit._limiter.cache_clear()


# ---------------------------------------------------------------- the dispatcher keeps to it

_sids = itertools.count(1)


@pytest.mark.django_db
def test_the_dispatcher_sends_no_faster_than_the_limit(
    settings, fake_clock, locmem_sms, monkeypatch
) -> None:
    settings.CHECKIN_MAX_PER_SECOND = 2  # one text every 0.5 s
    settings.REDIS_URL = None  # the in-process limiter, which runs on the fake clock
    people = [f"+1212555{n:04d}" for n in range(100, 105)]
    sent_at: list[float] = []

    def send_and_note_when(to: str, body: str) -> str:
        sent_at.append(fake_clock.now - 1000.0)
        return send_sms(to, body)

    monkeypatch.setattr(dispatch, "send_sms", send_and_note_when)
    start = dt.datetime(2026, 4, 6, 14, 0, tzinfo=dt.UTC)  # 10:00 in New York
    with time_machine.travel(start, tick=False) as clock:
        for address in people:
            for body in ROUTINE:
                conversation_handle_inbound(sid=f"SMrate{next(_sids)}", address=address, body=body)
        clock.move_to(start + dt.timedelta(days=14))

        out = io.StringIO()
        call_command("send_due_checkins", stdout=out)

    assert out.getvalue().strip() == "claimed=5 sent=5 deferred=0 failed=0 cancelled=0"
    assert sorted(sms.to for sms in locmem_sms) == people
    # One every 0.5 s, plus the limiter's safety margin.
    assert sent_at == pytest.approx([n * 0.5 * (1 + ratelimit.SAFETY_MARGIN) for n in range(5)])


@pytest.mark.django_db
def test_a_workers_first_text_is_not_late_for_its_slot(
    settings, fake_clock, locmem_sms, monkeypatch
) -> None:
    """A process's first send builds the Twilio client (tens of ms). Done inside the send, that
    text left late and arrived next to the following one: 11 texts in one second at 10/s with
    3 workers (benchmarks/ratelimit.py). The dispatcher prepares the backend before it books."""
    from triage.sms.locmem import LocmemBackend

    settings.CHECKIN_MAX_PER_SECOND = 2
    settings.REDIS_URL = None
    people = [f"+1212555{n:04d}" for n in range(200, 204)]
    left_at: list[float] = []
    cold = {"client": True}

    def prepare(self) -> None:
        cold["client"] = False

    def send_from_a_cold_process(to: str, body: str) -> str:
        if cold["client"]:
            fake_clock.sleep(0.08)  # building the client on the first send
            cold["client"] = False
        left_at.append(fake_clock.now)
        return send_sms(to, body)

    monkeypatch.setattr(LocmemBackend, "prepare", prepare, raising=False)
    monkeypatch.setattr(dispatch, "send_sms", send_from_a_cold_process)
    start = dt.datetime(2026, 4, 6, 14, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False) as clock:
        for address in people:
            for body in ROUTINE:
                conversation_handle_inbound(sid=f"SMcold{next(_sids)}", address=address, body=body)
        clock.move_to(start + dt.timedelta(days=14))
        call_command("send_due_checkins", stdout=io.StringIO())

    assert len(left_at) == len(people)
    interval = 0.5 * (1 + ratelimit.SAFETY_MARGIN)
    gaps = [b - a for a, b in itertools.pairwise(left_at)]
    assert min(gaps) == pytest.approx(interval), gaps
