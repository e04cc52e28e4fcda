"""STOP arriving while a dispatch batch that includes that person is in flight.

Each trial (seeded, reported) puts PEOPLE due check-ins in one batch, picks the person who will
text STOP and the send the fake Twilio holds (the STOP's sender in the hanging chunk, in a later
one, or in one already recorded, in turn), and sends STOP through the webhook while that send
hangs. The fake logs every send as it arrives, and the STOP's commit is logged by an on_commit
hook in the STOP's own transaction, so the order of the two is exact. Nothing may reach that
person after their opt-out commits: the STOP either commits first (their check-in is cancelled,
or skipped and then cancelled) or waits for the chunk holding their row lock, whose sends all
arrived before.
"""

from __future__ import annotations

import os
import random
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import Client

from reminders.dispatch import dispatch_due
from reminders.models import Checkin
from tests.conftest import FAKE_AUTH_TOKEN
from tests.faults.rows import due_checkins
from tests.faults.scripted_twilio import ScriptedTwilio, point_settings_at
from tests.faults.support import Background, report, seeded_random, wait_for, waiting_on_a_lock
from tests.scripts import text_signed
from triage import services
from triage.models import Person

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks"),
]

TRIALS = int(os.environ.get("FAULTS_STOP_TRIALS", "10"))
PEOPLE = 4  # at two texts a second: chunks [0, 1] and [2, 3]
CASES = ("same chunk", "later chunk", "earlier chunk")


def pick(case: str, rng: random.Random) -> tuple[float, int, int]:
    """(rate, index of the person who texts STOP, index of the send held) for a case: the STOP
    from someone in the chunk whose send hangs (with no rate limit the whole batch is one
    chunk), in a chunk not started yet, or in a chunk already recorded."""
    if case == "same chunk":
        rate = rng.choice([0, 2])
        chunk = [0, 1, 2, 3] if rate == 0 else rng.choice([[0, 1], [2, 3]])
        return rate, rng.choice(chunk), rng.choice(chunk)
    first, second = rng.choice([0, 1]), rng.choice([2, 3])
    return (2, second, first) if case == "later chunk" else (2, first, second)


@pytest.fixture
def twilio(settings: Any) -> Iterator[ScriptedTwilio]:
    with ScriptedTwilio() as fake:
        point_settings_at(settings, fake, timeout=60)
        settings.REDIS_URL = None  # the in-process limiter: this test owns its pace
        yield fake


@pytest.fixture
def stop_commits(twilio: ScriptedTwilio, monkeypatch: pytest.MonkeyPatch) -> None:
    """Log ("stop committed", number) in the fake's log the moment an opt-out commits: hooked
    where the webhook applies a STOP, inside its transaction, whichever way the person's row is
    then written (save() on SQLite, the text's write statement on PostgreSQL)."""
    apply = services._apply

    def applying(person: Person, conv: Any, t: Any, *args: Any, **kwargs: Any) -> Any:
        applied = apply(person, conv, t, *args, **kwargs)
        if t.action == "opt_out":
            number = person.phone
            transaction.on_commit(lambda: twilio.mark("stop committed", number))
        return applied

    monkeypatch.setattr(services, "_apply", applying)


def test_it_sends_nothing_after_a_stop_commits(
    twilio: ScriptedTwilio, stop_commits: None, settings: Any
) -> None:
    rng, seed = seeded_random("stop during dispatch")
    outcomes: Counter[str] = Counter()
    for trial in range(TRIALS):
        case = CASES[trial % len(CASES)]
        rate, stopper_at, held_at = pick(case, rng)
        settings.CHECKIN_MAX_PER_SECOND = rate
        rows = due_checkins(PEOPLE, prefix=500 + trial)
        phones = [row.person.phone for row in rows]
        stopper, held = phones[stopper_at], phones[held_at]
        context = (
            f"trial {trial} ({case}): rate {rate}, STOP from #{stopper_at}, send #{held_at} "
            f"held, FAULTS_SEED={seed}"
        )
        twilio.hold(held)
        dispatcher = Background(dispatch_due, "dispatcher")
        dispatcher.start()
        wait_for(twilio.holding.is_set, seconds=60, what="the held send")

        twilio.mark("stop sent", stopper)
        stop = Background(
            lambda: text_signed(Client(), stopper, "STOP", token=FAKE_AUTH_TOKEN),  # noqa: B023
            "STOP",
        )
        stop.start()
        # Let the held send go once the STOP has committed or is waiting for a row lock.
        wait_for(
            lambda: stop.done.is_set() or waiting_on_a_lock(),  # noqa: B023
            seconds=60,
            what="the STOP to commit or wait",
        )
        waited = not stop.done.is_set()
        twilio.release.set()
        replies = stop.result()
        dispatcher.result()

        log = list(twilio.log)
        committed = log.index(("stop committed", stopper))
        after = [
            i for i, event in enumerate(log) if event == ("request", stopper) and i > committed
        ]
        assert not after, f"sent to {stopper} after the STOP committed ({context})"
        arrived = log.index(("stop sent", stopper))
        outcomes["sent while the STOP waited"] += any(
            event == ("request", stopper) for event in log[arrived:committed]
        )
        assert replies, f"the STOP was not confirmed ({context})"

        row = Checkin.objects.get(person__phone=stopper)
        sent_to_stopper = Counter(twilio.numbers())[stopper]
        if row.status == Checkin.Status.SENT:
            assert sent_to_stopper == 1, context
            outcomes["sent before the STOP committed"] += 1
        else:
            assert (row.status, row.cancelled_reason, sent_to_stopper) == (
                Checkin.Status.CANCELLED,
                "opted out",
                0,
            ), context
            outcomes["cancelled by the STOP"] += 1
        outcomes["STOP waited for a chunk"] += waited
        if case == "later chunk":
            assert not waited and row.status == Checkin.Status.CANCELLED, context
        if case == "earlier chunk":
            assert not waited and row.status == Checkin.Status.SENT, context
        others = Counter(n for n in twilio.numbers() if n != stopper)
        assert others == Counter(p for p in phones if p != stopper), context
        assert Person.objects.get(phone=stopper).opted_out

        Person.objects.all().delete()
        twilio.forget()

    report(
        f"stop during dispatch: {TRIALS} trials x {PEOPLE} people; "
        + ", ".join(f"{k}={v}" for k, v in outcomes.items())
        + "; sends after a committed STOP: 0"
    )
