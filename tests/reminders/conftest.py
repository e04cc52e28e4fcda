"""Fixtures shared by the check-in tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import time_machine

from reminders import dispatch, ratelimit
from tests.reminders.checkins import OUTCOME_AT


class FakeClock:
    """Stands in for the `time` module: monotonic() is set by the test, sleep() advances it."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def fake_clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeClock]:
    """The rate limiter and the dispatcher on a clock the test moves."""
    clock = FakeClock()
    monkeypatch.setattr(ratelimit, "time", clock)
    monkeypatch.setattr(dispatch, "time", clock)
    ratelimit._limiter.cache_clear()  # a limiter cached by another test keeps its own schedule
    yield clock
    ratelimit._limiter.cache_clear()


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    """Time stopped at OUTCOME_AT (tests/reminders/checkins.py); tests move it."""
    with time_machine.travel(OUTCOME_AT, tick=False) as traveller:
        yield traveller
