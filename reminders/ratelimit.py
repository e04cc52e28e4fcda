"""A send-rate limit shared by every dispatcher: at most N texts per second across workers.

Generic cell rate algorithm with reservations: a worker asks for `n` slots and is told how long
to wait before the first; slots are 1/N s apart and never handed out twice. With REDIS_URL the
state lives in Redis (one atomic script call per chunk, timed by the Redis server's clock, so
worker clocks do not matter); without it, in the process (the embedded default runs one).
With Redis unreachable reserve() raises redis.RedisError: nothing is sent unpaced, and the
dispatcher hands its claimed rows back for the next pass (reminders/dispatch.py).
"""

from __future__ import annotations

import threading
import time
from functools import cache

from django.conf import settings

KEY = "backcheck:sms-rate"

# KEYS[1] holds the theoretical arrival time (microseconds, Redis clock) of the next free slot.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local n = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local first = math.max(tat, now)
local after = first + interval * n
redis.call('SET', KEYS[1], string.format('%d', after), 'PX', math.ceil((after - now) / 1000) + 1000)
return first - now
"""


class RateLimiter:
    """reserve(n) -> seconds to wait before the first of n sends, then one every `interval`."""

    def __init__(self, per_second: float) -> None:
        self.interval = 1.0 / per_second if per_second > 0 else 0.0

    def reserve(self, n: int) -> float:
        raise NotImplementedError


class Unlimited(RateLimiter):
    def reserve(self, n: int) -> float:
        return 0.0


class LocalRateLimiter(RateLimiter):
    def __init__(self, per_second: float) -> None:
        super().__init__(per_second)
        self._lock = threading.Lock()
        self._next = 0.0

    def reserve(self, n: int) -> float:
        with self._lock:
            now = time.monotonic()
            first = max(self._next, now)
            self._next = first + self.interval * n
            return first - now


class RedisRateLimiter(RateLimiter):
    def __init__(self, per_second: float, url: str) -> None:
        import redis

        from backpain_service.env import REDIS_SOCKET_TIMEOUT

        super().__init__(per_second)
        # Called while a chunk holds its people's row locks: a hung Redis must fail fast.
        self._client = redis.Redis.from_url(
            url,
            socket_connect_timeout=REDIS_SOCKET_TIMEOUT,
            socket_timeout=REDIS_SOCKET_TIMEOUT,
        )
        self._script = self._client.register_script(_RESERVE)

    def reserve(self, n: int) -> float:
        micros = int(self._script(keys=[KEY], args=[int(self.interval * 1_000_000), n]))
        return micros / 1_000_000


@cache
def _limiter(per_second: float, redis_url: str | None) -> RateLimiter:
    if per_second <= 0:
        return Unlimited(0)
    if redis_url:
        return RedisRateLimiter(per_second, redis_url)
    return LocalRateLimiter(per_second)


# Slots are booked this much further apart than 1/rate. At exactly 1/rate, any rate + 1
# consecutive texts span exactly one second, so the smallest jitter between sending and arrival
# puts rate + 1 into some one-second window at the provider (measured: 11 at 10/s with 3
# workers, benchmarks/ratelimit.py); 2% absorbs 20 ms of jitter at 10/s.
SAFETY_MARGIN = 0.02


def get_limiter() -> RateLimiter:
    rate = float(settings.CHECKIN_MAX_PER_SECOND) / (1 + SAFETY_MARGIN)
    return _limiter(rate, settings.REDIS_URL)
