"""Two check-in replies that said more than the question asked.

- "Yes, but it's worse" to "did you book?": the booking is recorded, and the worsening is acted
  on as in any check-in reply (re-screened for new signs, then that tier's advice).
- An emergency in reply to a check-in: the 911 advice, and the check-in counts as answered
  (response rate, the plan); the rest of the plan is cancelled, as a clinician follows up.

Through the signed webhook, with check-ins sent by `manage.py send_due_checkins`.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from clinic.dashboard import DateRange, dashboard_numbers
from clinic.models import Alert
from reminders.models import Checkin
from tests.reminders.checkins import (
    a_number,
    at,
    checkin_arrives,
    conversation,
    msg,
    send_due,
    text,
    triage,
)
from tests.scripts import ROUTINE_EN, ROUTINE_ES, SOON_COUGH_EN
from triage.conversation import Checkin as SentCheckin
from triage.conversation import State, advance

SOON_EN = SOON_COUGH_EN  # "did you book?" at 1 week
SOON_ES = ROUTINE_ES[:-1] + ["A"]
URGENT_EN = ["my upper back hurts", "no", "no", "B"]  # a fever: U03, "did you book?" at 2 days

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("signed_webhook")]


def urgent(lang: str = "en") -> list[str]:
    return [msg("outcome.urgent", lang), msg("outcome.disclaimer", lang)]


def row(from_: str, key: str) -> Checkin:
    return Checkin.objects.get(person__address=from_, message_key=key)


def open_checkins(from_: str) -> list[str]:
    rows = Checkin.objects.filter(person__address=from_, status__in=["pending", "sending"])
    return list(rows.order_by("due_at").values_list("message_key", flat=True))


# ---------------------------------------------------------------- booked, but worse


@pytest.mark.parametrize(
    ("bodies", "reply", "lang"),
    [
        (SOON_EN, "yes but it's worse", "en"),
        (SOON_EN, "booked but getting worse", "en"),
        (SOON_EN, "Yes, booked. It's getting worse though", "en"),
        (SOON_ES, "si pero peor", "es"),
        (SOON_ES, "sí, pero está peor", "es"),
    ],
)
def test_booked_but_worse_is_screened_for_new_signs_then_told_it_is_getting_worse(
    client: Client, clock, locmem_sms, bodies: list[str], reply: str, lang: str
) -> None:
    patient = a_number()
    triage(client, patient, bodies, tier=1)
    checkin_arrives(clock, locmem_sms, 7, patient)

    first = text(client, patient, reply)
    last = text(client, patient, "no")

    assert first == [msg("checkin.signs", lang)]  # not just "Good. Keep that appointment"
    assert last == [msg("checkin.worse", lang)]
    answered = row(patient, "checkin.soon_1w")
    assert answered.replied_at == at(7) and answered.trend == "worse"
    conv = conversation(patient)
    assert conv.tier == 1 and conv.state["trend"] == "worse"
    assert open_checkins(patient) == ["checkin.six_weeks"]


def test_booked_but_worse_with_a_new_warning_sign_gets_urgent_advice(
    client: Client, clock, locmem_sms
) -> None:
    patient = a_number()
    triage(client, patient, SOON_EN, tier=1)
    checkin_arrives(clock, locmem_sms, 7, patient)

    text(client, patient, "yes but it's worse")
    replies = text(client, patient, "yes")

    assert replies == urgent()
    conv = conversation(patient)
    assert conv.tier == 2 and "F08" in conv.reasons
    assert Alert.objects.filter(person__address=patient, kind=Alert.Kind.URGENT).exists()


def test_not_booked_and_worse_is_screened_too_then_told_to_book(
    client: Client, clock, locmem_sms
) -> None:
    patient = a_number()
    triage(client, patient, SOON_EN, tier=1)
    checkin_arrives(clock, locmem_sms, 7, patient)

    replies = [text(client, patient, b) for b in ("no and its worse", "no")]

    assert replies == [[msg("checkin.signs")], [msg("checkin.worse")]]


def test_an_urgent_patient_booked_but_worse_hears_the_urgent_advice_again(
    client: Client, clock, locmem_sms
) -> None:
    patient = a_number()
    triage(client, patient, URGENT_EN, tier=2)
    checkin_arrives(clock, locmem_sms, 2, patient)

    replies = [text(client, patient, b) for b in ("yes but worse now", "no")]

    assert replies == [[msg("checkin.signs")], urgent()]
    assert row(patient, "checkin.urgent_2d").trend == "worse"


def test_booked_and_no_worse_is_still_just_acknowledged(client: Client, clock, locmem_sms) -> None:
    patient = a_number()
    triage(client, patient, SOON_EN, tier=1)
    checkin_arrives(clock, locmem_sms, 7, patient)

    assert text(client, patient, "yes, about the same") == [msg("checkin.booked_yes")]


@pytest.mark.parametrize(
    "body", ["yes but it's worse", "booked but getting worse", "si pero peor", "yes, 6 now"]
)
def test_engine_booked_but_worse_asks_for_new_signs(body: str) -> None:
    soon: State | None = None
    for b in SOON_EN:
        soon = advance(soon, b).state
    assert soon is not None and soon.tier == 1  # pain 3 at triage: "6" is two points up

    t = advance(
        soon.to_dict(),
        body,
        checkin=SentCheckin(id=5, kind="booked", key="checkin.soon_1w"),
        elapsed_weeks=1.0,
    )

    assert t.state.phase == "checkin" and t.state.pending == "checkin_signs"
    assert t.checkin_answer is not None
    assert (t.checkin_answer["id"], t.checkin_answer["trend"]) == (5, "worse")


# ---------------------------------------------------------------- an emergency as the reply


@pytest.mark.parametrize(
    ("days", "key", "reply", "lang"),
    [
        (14, "checkin.routine_2w", "i cant feel my legs", "en"),
        (14, "checkin.routine_2w", "se me duermen las piernas desde ayer", "es"),
        (42, "checkin.six_weeks", "i cant feel my legs", "en"),
    ],
    ids=["two-weeks", "two-weeks-es", "six-weeks"],
)
def test_an_emergency_reply_answers_the_check_in_and_ends_the_plan(
    client: Client, clock, locmem_sms, days: int, key: str, reply: str, lang: str
) -> None:
    patient = a_number()
    triage(client, patient, ROUTINE_EN, tier=0)
    if days == 42:
        checkin_arrives(clock, locmem_sms, 14, patient)
        text(client, patient, "better")
        text(client, patient, "no")
    checkin_arrives(clock, locmem_sms, days, patient)

    replies = text(client, patient, reply)

    assert replies == [msg("outcome.emergency", lang)]
    answered = row(patient, key)
    assert answered.replied_at == at(days)
    assert answered.trend == "worse"
    # The dashboard counts it as a reply.
    day = at(days).date()
    numbers = dashboard_numbers(date_range=DateRange(start=day, end=day), tz=dt.UTC)
    assert (numbers.replies.sent, numbers.replies.replied) == (1, 1)
    # Nothing more goes out automatically: a clinician follows up.
    assert open_checkins(patient) == []
    assert Alert.objects.filter(person__address=patient, kind=Alert.Kind.EMERGENCY).exists()
    for later in (days + 1, 43, 60, 100):
        clock.move_to(at(later))
        assert send_due(locmem_sms) == []


def test_an_emergency_after_an_unreadable_first_reply_still_answers_the_check_in(
    client: Client, clock, locmem_sms
) -> None:
    patient = a_number()
    triage(client, patient, ROUTINE_EN, tier=0)
    checkin_arrives(clock, locmem_sms, 14, patient)
    text(client, patient, "hmm")  # re-asked, not an answer yet
    assert row(patient, "checkin.routine_2w").replied_at is None

    clock.move_to(at(14.1))
    assert text(client, patient, "my legs are numb") == [msg("outcome.emergency")]

    assert row(patient, "checkin.routine_2w").replied_at == at(14.1)


def test_an_emergency_at_the_new_signs_question_keeps_the_first_reply_time(
    client: Client, clock, locmem_sms
) -> None:
    patient = a_number()
    triage(client, patient, ROUTINE_EN, tier=0)
    checkin_arrives(clock, locmem_sms, 14, patient)
    text(client, patient, "same")

    clock.move_to(at(14.1))
    assert text(client, patient, "yes my legs are numb") == [msg("outcome.emergency")]

    answered = row(patient, "checkin.routine_2w")
    assert answered.replied_at == at(14) and answered.trend == "worse"
    assert open_checkins(patient) == []


def test_stop_with_an_emergency_in_reply_to_a_check_in_answers_it(
    client: Client, clock, locmem_sms
) -> None:
    patient = a_number()
    triage(client, patient, ROUTINE_EN, tier=0)
    checkin_arrives(clock, locmem_sms, 14, patient)

    replies = text(client, patient, "STOP my legs are numb")

    assert replies == [msg("sys.optout_emergency")]
    assert row(patient, "checkin.routine_2w").replied_at == at(14)
    assert open_checkins(patient) == []


def test_an_emergency_after_the_check_in_was_answered_does_not_rewrite_that_answer(
    client: Client, clock, locmem_sms
) -> None:
    patient = a_number()
    triage(client, patient, ROUTINE_EN, tier=0)
    checkin_arrives(clock, locmem_sms, 14, patient)
    text(client, patient, "better")
    text(client, patient, "no")

    clock.move_to(at(20))
    assert text(client, patient, "cant feel my legs") == [msg("outcome.emergency")]

    answered = row(patient, "checkin.routine_2w")
    assert (answered.replied_at, answered.trend) == (at(14), "better")
    assert open_checkins(patient) == []


def test_an_emergency_in_triage_answers_no_check_in() -> None:
    t = advance(None, "my upper back hurts and i cant feel my legs")

    assert t.emergency and t.checkin_answer is None
