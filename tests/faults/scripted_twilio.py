"""A scriptable fake Twilio for the fault tests: answers per recipient (errors, late answers),
a hold on one recipient's send, and an ordered log of what arrived when.
"""

from __future__ import annotations

import sys
import threading
from collections import Counter
from dataclasses import dataclass

from tests.conftest import FAKE_ACCOUNT_SID, FAKE_AUTH_TOKEN, FAKE_FROM_NUMBER
from tests.fake_twilio import FakeTwilio, RecordedRequest, _Failure
from tests.faults.support import wait_for


@dataclass(frozen=True)
class Answer:
    """How the fake answers one request: an error status (and Twilio code), after a delay.

    status None answers 201 (Twilio accepted the text), also after a delay longer than the
    client's timeout: that is a text Twilio took although the sender saw a timeout.
    """

    status: int | None = None
    code: int | None = None
    delay: float = 0.0


OK = Answer()


class ScriptedTwilio(FakeTwilio):
    """FakeTwilio with answers scripted per recipient (then 201s), a per-request delay, and a
    hold: the send to a chosen number waits until `release` is set.

    `log` lists (event, number) in the order things happened: "request" when a send arrives,
    "answered" when its answer is decided, plus any marks the test adds with `mark()`.
    """

    def __init__(self, *, delay: float = 0.0) -> None:
        super().__init__(account_sid=FAKE_ACCOUNT_SID, auth_token=FAKE_AUTH_TOKEN)
        self.delay = delay
        self.per_number: dict[str, list[Answer]] = {}
        self.hold_numbers: set[str] = set()
        self.holding = threading.Event()  # a held request has arrived
        self.release = threading.Event()
        self.log: list[tuple[str, str]] = []
        self.answers: list[tuple[str, Answer]] = []  # (number, answer) per request, in order
        # Requests cut off before their form arrived (the sender was killed mid-request):
        # Twilio never sees those, so they are not in `requests`.
        self.incomplete = 0
        self._watch: tuple[int, threading.Event] | None = None
        self._decided = 0  # requests answered so far (taken, or refused with an error)
        self._current = threading.local()

    # Scripting (from the test thread) ----------------------------------------------

    def script(self, number: str, *answers: Answer) -> None:
        with self._lock:
            self.per_number.setdefault(number, []).extend(answers)

    def hold(self, number: str) -> None:
        self.holding.clear()
        self.release.clear()
        self.hold_numbers = {number}

    def when_requests(self, count: int) -> threading.Event:
        """An event set once `count` sends have arrived."""
        event = threading.Event()
        with self._lock:
            self._watch = (count, event)
            if len(self.requests) >= count:
                event.set()
        return event

    def mark(self, event: str, number: str = "") -> int:
        """Add an event to the log; returns how many requests had arrived by then."""
        with self._lock:
            self.log.append((event, number))
            return len(self.requests)

    def start(self) -> ScriptedTwilio:
        super().start()
        assert self._server is not None
        report_error = self._server.handle_error

        def handle_error(request: object, client_address: object) -> None:
            # A sender killed mid-request resets its connection: expected here, not news.
            if not isinstance(sys.exc_info()[1], ConnectionError):
                report_error(request, client_address)  # type: ignore[arg-type]

        self._server.handle_error = handle_error  # type: ignore[method-assign]
        return self

    def stop(self) -> None:
        self.release.set()
        super().stop()

    def forget(self) -> None:
        """Clear what was recorded (between trials that reuse one fake)."""
        with self._lock:
            self.requests.clear()
            self.sent.clear()
            self._created.clear()
            self.log.clear()
            self.answers.clear()
            self.incomplete = 0
            self._watch = None
            self._decided = 0

    def numbers(self) -> list[str]:
        """The To of every request, in arrival order."""
        with self._lock:
            return [str(r.form.get("To")) for r in self.requests]

    def accepted(self) -> Counter[str]:
        """Texts Twilio took (answered 201, whether or not the sender heard it) per number."""
        with self._lock:
            return Counter(str(s["to"]) for s in self.sent)

    # Request handling (server threads) ------------------------------------------------

    def _record(self, request: RecordedRequest) -> None:
        to = str(request.form.get("To"))
        if "To" not in request.form or "Body" not in request.form:
            with self._lock:
                self.incomplete += 1
            self._current.to, self._current.answer = to, OK
            return
        with self._lock:
            queue = self.per_number.get(to)
            if queue:
                answer = queue.pop(0)
            else:
                answer = OK
            self.requests.append(request)
            self.log.append(("request", to))
            self.answers.append((to, answer))
            if self._watch and len(self.requests) >= self._watch[0]:
                self._watch[1].set()
        self._current.to, self._current.answer = to, answer

    def _next_delay(self) -> float:
        if self._current.to in self.hold_numbers:
            self.holding.set()
            self.release.wait(timeout=120)
        return self.delay + self._current.answer.delay + super()._next_delay()

    def _next_failure(self) -> _Failure | None:
        answer = self._current.answer
        with self._lock:
            self.log.append(("answered", self._current.to))
        failure = (
            _Failure(answer.status, answer.code, None)
            if answer.status is not None
            else super()._next_failure()
        )
        if failure is not None:
            with self._lock:
                self._decided += 1
        return failure

    def _message_resource(self, form: dict[str, str]) -> dict[str, object]:
        resource = super()._message_resource(form)
        with self._lock:
            self._decided += 1
        return resource

    def settle(self, seconds: float = 30) -> None:
        """Wait until every request has been answered (a timed-out one is answered late)."""
        wait_for(lambda: self._decided >= len(self.requests), seconds=seconds, what="late answers")


def point_settings_at(settings, fake: FakeTwilio, *, timeout: float = 30.0) -> None:
    """Send this process's texts through the real Twilio backend to `fake`."""
    settings.SMS_BACKEND_CLASS = "triage.sms.twilio.TwilioBackend"
    settings.TWILIO_API_URL = fake.url
    settings.TWILIO_ACCOUNT_SID = FAKE_ACCOUNT_SID
    settings.TWILIO_AUTH_TOKEN = FAKE_AUTH_TOKEN
    settings.TWILIO_FROM_NUMBER = FAKE_FROM_NUMBER
    settings.TWILIO_MESSAGING_SERVICE_SID = None
    settings.TWILIO_TIMEOUT = timeout


def sids_by_number(*fakes: FakeTwilio) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for fake in fakes:
        for resource in fake.sent:
            out.setdefault(str(resource["to"]), set()).add(str(resource["sid"]))
    return out
