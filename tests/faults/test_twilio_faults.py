"""Twilio failing in bursts: 500s, 429s, timeouts, slow answers, and refusals for good.

The fake answers each send from a seeded random script of bursts (reported). Then:
- a 500 or 429 means Twilio did not take the text: the row is retried later, with the backoff
  of reminders.services.retry_delay, and the person gets it exactly once in the end;
- a timeout means Twilio may have taken a text whose answer never arrived (the fake takes
  every timed-out text, as the worst case). Before the retry the dispatcher asks Twilio for the
  texts it took for that number since the attempt, finds it and records it with its sid:
  no duplicate either;
- 21211 (invalid number) and 21610 (unsubscribed) fail the row for good and are recorded on the
  row and on the person;
- while a send hangs, the webhook keeps answering: a text from someone in a later chunk of the
  same batch and one from someone else are answered while the send is still pending; only the
  people of the hanging chunk wait, for that chunk to end (their row locks keep STOP airtight).
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from reminders.dispatch import dispatch_due
from reminders.models import Checkin
from tests.conftest import FAKE_AUTH_TOKEN
from tests.faults.rows import due_checkins, open_all_day
from tests.faults.scripted_twilio import OK, Answer, ScriptedTwilio, point_settings_at
from tests.faults.support import Background, report, seeded_random, wait_for, waiting_on_a_lock
from tests.scripts import ROUTINE_EN, text_signed
from triage.models import Message, Person

TIMEOUT = 0.5  # TWILIO_TIMEOUT in these tests
RETRY_BASE = 60.0
PEOPLE = 40
ANSWERS = {
    "ok": OK,
    "500": Answer(status=500),
    "429": Answer(status=429, code=20429),
    "timeout": Answer(delay=TIMEOUT + 0.4),  # taken by Twilio, answered too late
    "slow": Answer(delay=TIMEOUT / 3),
}
KIND_OF = {answer: kind for kind, answer in ANSWERS.items()}
WEIGHTS = {"ok": 4, "500": 2, "429": 2, "timeout": 1, "slow": 1}


def bursts(rng: random.Random, count: int) -> list[str]:
    """`count` answer kinds in bursts of 1-5 of a kind."""
    kinds: list[str] = []
    while len(kinds) < count:
        kind = rng.choices(list(WEIGHTS), weights=list(WEIGHTS.values()))[0]
        kinds += [kind] * rng.randint(1, 5)
    return kinds[:count]


@pytest.fixture
def twilio(settings: Any) -> Iterator[ScriptedTwilio]:
    with ScriptedTwilio() as fake:
        point_settings_at(settings, fake, timeout=TIMEOUT)
        settings.CHECKIN_MAX_PER_SECOND = 0
        settings.CHECKIN_RETRY_BASE_SECONDS = RETRY_BASE
        settings.CHECKIN_RETRY_MAX_SECONDS = 3600
        settings.CHECKIN_MAX_ATTEMPTS = 8
        yield fake


@pytest.mark.django_db
def test_it_retries_twilio_failures_with_backoff_and_records_refusals(
    twilio: ScriptedTwilio,
) -> None:
    rng, seed = seeded_random("twilio bursts")
    rows = due_checkins(PEOPLE, prefix=400)
    phones = [row.person.phone for row in rows]
    invalid, unsubscribed, unlucky, doubtful = phones[7], phones[23], phones[31], phones[15]
    twilio.script(invalid, Answer(status=400, code=21211))
    twilio.script(unsubscribed, Answer(status=400, code=21610))
    # Whatever the bursts do, one text fails three times running: the backoff must double.
    twilio.script(unlucky, ANSWERS["500"], ANSWERS["429"], ANSWERS["500"])
    # And one first try always times out (taken, answered too late), whatever the seed draws.
    twilio.script(doubtful, ANSWERS["timeout"])
    # Bursts over the sends in the order they go out (by row), for a first and a second try;
    # a third try is answered normally.
    first_try, second_try = bursts(rng, PEOPLE), bursts(rng, PEOPLE)
    for n, number in enumerate(phones):
        if number not in (invalid, unsubscribed, unlucky, doubtful):
            twilio.script(number, ANSWERS[first_try[n]], ANSWERS[second_try[n]])

    passes, now = 0, timezone.now()
    waits: dict[int, list[float]] = {}
    while passes < 8:
        if passes:
            twilio.settle()  # time passes: answers that came too late have come by now
        dispatch_due(now=now)
        passes += 1
        waiting = Checkin.objects.filter(status=Checkin.Status.PENDING)
        for row in waiting:
            # The backoff: retry_delay(attempts), 80-100 % of base x 2^(attempts-1). The row's
            # updated_at is when the send began; send_after counts from when it failed.
            backoff = RETRY_BASE * 2 ** (row.attempts - 1)
            wait = (row.send_after - row.updated_at).total_seconds()
            assert 0.8 * backoff <= wait <= backoff + TIMEOUT + 5, (row.attempts, wait, seed)
            waits.setdefault(row.attempts, []).append(wait)
            assert row.last_error and row.claim_token is None
        if not waiting:
            break
        now = max(row.send_after for row in waiting) + dt.timedelta(seconds=1)  # time passes

    assert passes < 8, f"still retrying after {passes} passes (FAULTS_SEED={seed})"
    twilio.settle()
    answered: dict[str, list[str]] = {}
    for number, answer in twilio.answers:
        answered.setdefault(number, []).append(KIND_OF.get(answer, "refused"))
    by_phone = {row.person.phone: row for row in Checkin.objects.select_related("person")}
    accepted = twilio.accepted()

    for number, kinds_seen in answered.items():
        row = by_phone[number]
        assert row.attempts == len(kinds_seen), (number, kinds_seen, seed)
        if number in (invalid, unsubscribed):
            continue
        assert row.status == Checkin.Status.SENT, (number, kinds_seen, row.last_error, seed)
        # 500 and 429: not taken, so not repeated. A timeout: taken, found at Twilio.
        assert accepted[number] == 1, (number, kinds_seen, seed)
        if "timeout" in kinds_seen:
            assert kinds_seen[-1] == "timeout", "a text Twilio took was sent again"
            assert row.in_doubt_since is None
        assert row.provider_sid in {str(s["sid"]) for s in twilio.sent if s["to"] == number}
    assert set(answered) == set(phones), "every check-in was tried"
    assert answered[unlucky][:3] == ["500", "429", "500"] and by_phone[unlucky].attempts == 4
    assert {1, 2, 3} <= set(waits)
    outbound = Counter(
        Message.objects.filter(direction=Message.Direction.OUTBOUND).values_list(
            "person__phone", flat=True
        )
    )
    assert set(outbound.values()) == {1} and len(outbound) == PEOPLE - 2, "one record per text"

    for number, code, field in (
        (invalid, 21211, "number_invalid_at"),
        (unsubscribed, 21610, "opted_out_at"),
    ):
        row = by_phone[number]
        assert (row.status, row.error_code, row.attempts) == (Checkin.Status.FAILED, code, 1)
        assert str(code) in row.last_error
        assert getattr(Person.objects.get(phone=number), field) is not None
        assert accepted[number] == 0

    seen = Counter(kind for kinds_seen in answered.values() for kind in kinds_seen)
    duplicates = sum(accepted.values()) - (PEOPLE - 2)
    assert seen["timeout"] > 0, f"no timeout in the bursts (FAULTS_SEED={seed})"
    assert duplicates == 0
    report(
        f"twilio bursts: {PEOPLE} check-ins, {sum(seen.values())} sends in {passes} passes, "
        f"answers {dict(seen)}; duplicates {duplicates} ({seen['timeout']} timeouts, each "
        "found at Twilio before a retry); "
        "retry waits by attempt (s): "
        + ", ".join(f"{n}: {min(w):.0f}-{max(w):.0f}" for n, w in sorted(waits.items()))
    )


# ---------------------------------------------------------------- a hanging send


def triaged(client: Client, number: str) -> Checkin:
    """Someone triaged ROUTINE by text, whose 2-week check-in is due now."""
    for body in ROUTINE_EN:
        text_signed(client, number, body, token=FAKE_AUTH_TOKEN)
    first = Checkin.objects.filter(person__address=number).order_by("due_at").first()
    assert first is not None
    past = timezone.now() - dt.timedelta(minutes=1)
    Checkin.objects.filter(pk=first.pk).update(due_at=past, send_after=past)
    return first


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks")
def test_it_answers_texts_while_a_send_hangs(
    twilio: ScriptedTwilio, settings: Any, client: Client
) -> None:
    # Two texts a second: chunks of two, as a US long code's rate makes them chunks of one.
    settings.CHECKIN_MAX_PER_SECOND = 2
    settings.REDIS_URL = None  # the in-process limiter: this test owns its pace
    settings.TWILIO_TIMEOUT = 60  # the send hangs until the test lets it go
    open_all_day()
    hung, same_chunk, later_chunk = "+15557100001", "+15557100002", "+15557100003"
    stranger = "+15557100009"
    for number in (hung, same_chunk, later_chunk):
        triaged(Client(), number)
    twilio.hold(hung)

    dispatcher = Background(dispatch_due, "dispatcher")
    dispatcher.start()
    wait_for(twilio.holding.is_set, seconds=60, what="the send to hang")

    def text(number: str) -> Background:
        def send() -> list[str]:
            replies = text_signed(Client(), number, "hello", token=FAKE_AUTH_TOKEN)
            twilio.mark("answered", number)
            return replies

        worker = Background(send, f"text from {number}")
        worker.start()
        return worker

    answered_later, answered_stranger = text(later_chunk), text(stranger)
    blocked = text(same_chunk)
    assert answered_later.result() and answered_stranger.result()
    # Both answered while the hanging send is still pending.
    assert not twilio.release.is_set() and dispatcher.is_alive()
    # Someone whose own check-in is in the hanging chunk waits for it: that row lock is what
    # makes a STOP either land before their text is sent or after it has been recorded.
    wait_for(waiting_on_a_lock, seconds=30, what="the same-chunk text to wait for its lock")
    assert not blocked.done.is_set()
    twilio.mark("released")
    twilio.release.set()
    assert blocked.result()
    summary = dispatcher.result()

    events = [e for e in twilio.log if e[0] in ("answered", "released")]
    assert events.index(("answered", same_chunk)) > events.index(("released", ""))
    stored = Message.objects.filter(direction=Message.Direction.INBOUND, body="hello")
    assert sorted(stored.values_list("address", flat=True)) == sorted(
        [hung, same_chunk, later_chunk, stranger][1:]
    )
    assert Counter(twilio.numbers())[hung] == 1, summary
    report(
        "hanging send: texts from a later chunk and from a stranger answered while the send "
        "was pending; the same-chunk text answered after it returned"
    )
