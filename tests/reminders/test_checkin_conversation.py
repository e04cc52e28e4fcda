"""Check-ins as a patient lives them: triage by text, weeks pass, a check-in arrives, they reply.

Everything goes through the real entry points: inbound texts are signed Twilio webhook POSTs,
time moves with time-machine, and check-ins go out with `manage.py send_due_checkins` (to the
locmem SMS outbox). Replies are compared with the exact texts the service has for them.
The last section drives the pure engine (`advance(..., checkin=...)`) through edge cases.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from reminders.models import Checkin
from tests.reminders.checkins import (
    OUTCOME_AT,
    a_number,
    checkin_arrives,
    conversation,
    go_to,
    msg,
    send_due,
    text,
    triage,
)
from tests.scripts import ROUTINE_EN, ROUTINE_ES, SOON_COUGH_EN
from triage.conversation import Checkin as SentCheckin
from triage.conversation import Content, State, advance
from triage.models import Person
from triage.rules import Tier
from triage.sms.locmem import OutboundSms

UK = "+447400123456"

SOON_EN = SOON_COUGH_EN
URGENT_EN = ["my upper back hurts", "no", "no", "B"]  # a fever: U03

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("signed_webhook")]

# ---------------------------------------------------------------- helpers


@pytest.fixture
def outbox(locmem_sms: list[OutboundSms]) -> list[OutboundSms]:
    return locmem_sms


def outcome(tier: str, lang: str = "en") -> list[str]:
    return {
        "soon": [msg("outcome.soon", lang), msg("outcome.soon_watch", lang)],
        "urgent": [msg("outcome.urgent", lang), msg("outcome.disclaimer", lang)],
    }[tier]


def row(from_: str, key: str, tier: int | None = None) -> Checkin:
    """The patient's check-in row with this message key (of this tier's plan, when given)."""
    rows = Checkin.objects.filter(person__address=from_, message_key=key)
    return rows.get() if tier is None else rows.get(tier=tier)


def open_checkins(from_: str) -> list[tuple[int, str, dt.datetime]]:
    """(tier, message key, due) of every check-in still to be sent, soonest first."""
    rows = Checkin.objects.filter(person__address=from_, status__in=["pending", "sending"])
    return [(c.tier, c.message_key, c.due_at) for c in rows.order_by("due_at")]


# ---------------------------------------------------------------- routine follow-up


def test_a_routine_patient_better_at_two_weeks_hears_that_we_are_glad(
    client: Client, clock, outbox
) -> None:
    patient = a_number()
    triage(client, patient, ROUTINE_EN, tier=0)

    checkin = checkin_arrives(clock, outbox, 14, patient)
    first = text(client, patient, "better")
    last = text(client, patient, "no")

    assert checkin.body == msg("checkin.routine_2w") and "911" in checkin.body
    assert first == [msg("checkin.signs")]
    assert last == [msg("checkin.better")]
    conv = conversation(patient)
    assert conv.tier == 0 and conv.reasons == ["R01"]
    answered = row(patient, "checkin.routine_2w")
    assert answered.trend == "better"
    assert answered.replied_at == OUTCOME_AT + dt.timedelta(days=14)
    assert [key for _, key, _ in open_checkins(patient)] == ["checkin.six_weeks"]


def test_pain_no_better_at_six_weeks_means_see_a_provider_and_the_soon_plan(
    client: Client, clock, outbox
) -> None:
    patient = a_number()
    triage(client, patient, ROUTINE_EN, tier=0)
    checkin_arrives(clock, outbox, 14, patient)
    assert [text(client, patient, b) for b in ("same", "no")][-1] == [msg("checkin.same")]
    assert conversation(patient).tier == 0

    six_weeks = checkin_arrives(clock, outbox, 42, patient)
    replies = [text(client, patient, b) for b in ("same", "no")]

    assert six_weeks.body == msg("checkin.six_weeks")
    assert replies == [[msg("checkin.signs")], [msg("checkin.see_provider")]]
    conv = conversation(patient)
    assert conv.tier == 1 and "S01" in conv.reasons
    now = OUTCOME_AT + dt.timedelta(days=42)
    assert open_checkins(patient) == [
        (1, "checkin.soon_1w", now + dt.timedelta(days=7)),
        (1, "checkin.six_weeks", now + dt.timedelta(days=42)),
    ]
    # and the SOON plan runs: a week later, did you book?
    booked = checkin_arrives(clock, outbox, 49, patient)
    assert booked.body == msg("checkin.soon_1w")
    assert text(client, patient, "yes") == [msg("checkin.booked_yes")]


def test_a_score_up_since_the_last_check_in_is_getting_worse_not_just_six_weeks(
    client: Client, clock, outbox
) -> None:
    patient = a_number()
    triage(client, patient, ROUTINE_EN, tier=0)  # pain 3 at triage
    checkin_arrives(clock, outbox, 14, patient)
    assert [text(client, patient, b) for b in ("1", "no")][-1] == [msg("checkin.better")]

    checkin_arrives(clock, outbox, 42, patient)
    replies = [text(client, patient, b) for b in ("3", "no")]

    # 3 is where they started, but two points up on the last contact: worse, book a doctor.
    assert replies[-1] == [msg("checkin.worse")]
    assert conversation(patient).tier == 1
    two = row(patient, "checkin.routine_2w")
    assert (two.pain_score, two.trend) == (1, "better")
    six = row(patient, "checkin.six_weeks", tier=0)
    assert (six.pain_score, six.trend) == (3, "worse")


def test_worse_at_two_weeks_replaces_the_routine_plan_with_the_soon_plan(
    client: Client, clock, outbox
) -> None:
    patient = a_number()
    triage(client, patient, ROUTINE_EN, tier=0)
    checkin_arrives(clock, outbox, 14, patient)

    replies = [text(client, patient, b) for b in ("6 now", "no")]

    assert replies == [[msg("checkin.signs")], [msg("checkin.worse")]]
    conv = conversation(patient)
    assert conv.tier == 1 and "R01" not in conv.reasons
    now = OUTCOME_AT + dt.timedelta(days=14)
    assert [(t, k) for t, k, _ in open_checkins(patient)] == [
        (1, "checkin.soon_1w"),
        (1, "checkin.six_weeks"),
    ]
    assert open_checkins(patient)[0][2] == now + dt.timedelta(days=7)
    cancelled = row(patient, "checkin.six_weeks", tier=0)
    assert cancelled.status == Checkin.Status.CANCELLED  # the routine six-week one


def test_a_new_warning_sign_in_a_check_in_reply_gets_urgent_advice_at_once(
    client: Client, clock, outbox
) -> None:
    patient = a_number()
    triage(client, patient, ROUTINE_EN, tier=0)
    checkin_arrives(clock, outbox, 14, patient)

    replies = text(client, patient, "now I have a fever")

    assert replies == outcome("urgent")  # no "any new signs?" question first
    conv = conversation(patient)
    assert conv.tier == 2 and "U03" in conv.reasons
    urgent_2d = checkin_arrives(clock, outbox, 16, patient)
    assert urgent_2d.body == msg("checkin.urgent_2d")


# ---------------------------------------------------------------- emergencies and STOP


@pytest.mark.parametrize(
    ("reply", "lang"),
    [
        ("cant feel my legs", "en"),
        ("se me duermen las piernas desde ayer", "es"),
        ("i wet myself this morning", "en"),
    ],
)
def test_an_emergency_in_a_check_in_reply_goes_out_alone_and_stops_the_check_ins(
    client: Client, clock, outbox, reply: str, lang: str
) -> None:
    patient = a_number()
    triage(client, patient, ROUTINE_EN, tier=0)
    checkin_arrives(clock, outbox, 14, patient)

    replies = text(client, patient, reply)

    assert replies == [msg("outcome.emergency", lang)]
    assert conversation(patient).tier == 3
    assert open_checkins(patient) == []
    assert row(patient, "checkin.six_weeks").status == Checkin.Status.CANCELLED
    go_to(clock, 43)
    assert send_due(outbox) == []


def test_after_an_emergency_reply_later_texts_get_call_911_not_check_in_questions(
    client: Client, clock, outbox
) -> None:
    patient = a_number()
    triage(client, patient, ROUTINE_EN, tier=0)
    checkin_arrives(clock, outbox, 14, patient)
    text(client, patient, "cant feel my legs")

    later = [text(client, patient, b) for b in ("ok", "worse", "no")]

    assert later == [[msg("sys.after_emergency")]] * 3
    assert conversation(patient).tier == 3


def test_stop_in_reply_to_a_check_in_confirms_and_nothing_more_is_sent(
    client: Client, clock, outbox
) -> None:
    patient = a_number()
    triage(client, patient, ROUTINE_EN, tier=0)
    checkin_arrives(clock, outbox, 14, patient)

    replies = text(client, patient, "STOP")

    assert replies == [msg("sys.optout")]
    assert open_checkins(patient) == []
    assert Person.objects.get(address=patient).opted_out
    go_to(clock, 43)
    assert send_due(outbox) == []
    assert text(client, patient, "better") == []


def test_an_emergency_check_in_reply_from_a_uk_number_says_999(
    client: Client, clock, outbox
) -> None:
    triage(client, UK, ROUTINE_EN, tier=0)
    checkin_arrives(clock, outbox, 14, UK)

    assert text(client, UK, "cant feel my legs") == [msg("outcome.emergency", uk=True)]


# ---------------------------------------------------------------- late and overtaken replies


def test_a_reply_five_days_late_still_answers_the_check_in(client: Client, clock, outbox) -> None:
    patient = a_number()
    triage(client, patient, ROUTINE_EN, tier=0)
    checkin_arrives(clock, outbox, 14, patient)

    go_to(clock, 19)
    replies = [text(client, patient, b) for b in ("same", "no")]

    assert replies == [[msg("checkin.signs")], [msg("checkin.same")]]
    answered = row(patient, "checkin.routine_2w")
    assert answered.trend == "same"
    assert answered.replied_at == OUTCOME_AT + dt.timedelta(days=19)


@pytest.mark.parametrize(
    ("late_days", "advice"),
    [(0, "checkin.better"), (5, "checkin.see_provider")],
    ids=["on-time-5.6-weeks", "late-6.3-weeks"],
)
def test_a_late_reply_counts_the_weeks_of_pain_up_to_the_day_it_arrives(
    client: Client, clock, outbox, late_days: int, advice: str
) -> None:
    # 25 days of pain at triage: 5.6 weeks at the two-week check-in, 6.3 five days later.
    patient = a_number()
    bodies = ROUTINE_EN[:5] + ["25 days, lifting, 30", "none"]
    triage(client, patient, bodies, tier=0)
    checkin_arrives(clock, outbox, 14, patient)

    go_to(clock, 14 + late_days)
    replies = [text(client, patient, b) for b in ("better", "no")]

    assert replies[-1] == [msg(advice)]
    assert conversation(patient).tier == (1 if advice == "checkin.see_provider" else 0)


def test_a_reply_after_the_six_week_check_in_went_out_answers_the_six_week_one(
    client: Client, clock, outbox
) -> None:
    patient = a_number()
    triage(client, patient, ROUTINE_EN, tier=0)
    checkin_arrives(clock, outbox, 14, patient)  # never answered
    checkin_arrives(clock, outbox, 42, patient)

    go_to(clock, 43)
    replies = [text(client, patient, b) for b in ("same", "no")]

    assert replies == [[msg("checkin.signs")], [msg("checkin.see_provider")]]
    six = row(patient, "checkin.six_weeks", tier=0)
    assert six.trend == "same" and six.replied_at is not None
    two = row(patient, "checkin.routine_2w")
    assert two.replied_at is None and two.trend == ""
    assert conversation(patient).tier == 1


# ---------------------------------------------------------------- language and country


def test_a_spanish_patient_gets_the_check_in_and_every_reply_in_spanish(
    client: Client, clock, outbox
) -> None:
    patient = a_number()
    triage(client, patient, ROUTINE_ES, tier=0)

    checkin = checkin_arrives(clock, outbox, 14, patient)
    replies = [text(client, patient, b) for b in ("mejor", "no")]

    assert checkin.body == msg("checkin.routine_2w", "es")
    assert "semanas" in checkin.body
    assert replies == [[msg("checkin.signs", "es")], [msg("checkin.better", "es")]]


def test_a_uk_patient_is_told_999_in_the_check_in_and_the_replies(
    client: Client, clock, outbox
) -> None:
    triage(client, UK, ROUTINE_EN, tier=0)

    checkin = checkin_arrives(clock, outbox, 14, UK)
    replies = [text(client, UK, b) for b in ("better", "no")]

    assert checkin.to == UK
    assert "999" in checkin.body and "911" not in checkin.body
    assert replies[-1] == [msg("checkin.better", uk=True)]
    assert "999" in replies[-1][0] and "911" not in replies[-1][0]


# ---------------------------------------------------------------- booked check-ins


@pytest.mark.parametrize(
    ("bodies", "tier", "days", "key", "advice"),
    [
        (SOON_EN, 1, 7, "checkin.soon_1w", "soon"),
        (URGENT_EN, 2, 2, "checkin.urgent_2d", "urgent"),
    ],
    ids=["soon-1-week", "urgent-2-days"],
)
@pytest.mark.parametrize("answer", ["yes", "no"])
def test_did_you_book_yes_is_acknowledged_and_no_repeats_the_advice(
    client: Client, clock, outbox, bodies, tier, days, key, advice, answer
) -> None:
    patient = a_number()
    triage(client, patient, bodies, tier=tier)

    checkin = checkin_arrives(clock, outbox, days, patient)
    replies = text(client, patient, answer)

    assert checkin.body == msg(key)
    if answer == "yes":
        assert replies == [msg("checkin.booked_yes")]
    else:
        assert replies == outcome(advice)
    assert conversation(patient).tier == tier
    assert row(patient, key).replied_at == OUTCOME_AT + dt.timedelta(days=days)
    assert [k for _, k, _ in open_checkins(patient)] == ["checkin.six_weeks"]


def test_a_pain_answer_to_did_you_book_is_taken_as_a_pain_answer(
    client: Client, clock, outbox
) -> None:
    patient = a_number()
    triage(client, patient, SOON_EN, tier=1)
    checkin_arrives(clock, outbox, 7, patient)

    first = text(client, patient, "a bit better thanks")

    # "a bit" is a partial yes to a warning-sign question, but here it says how the pain is.
    assert first == [msg("checkin.signs")]
    assert row(patient, "checkin.soon_1w").trend == "better"


def test_yes_booked_but_the_pain_is_now_severe_gets_urgent_advice(
    client: Client, clock, outbox
) -> None:
    patient = a_number()
    triage(client, patient, SOON_EN, tier=1)
    checkin_arrives(clock, outbox, 7, patient)

    replies = text(client, patient, "yes, but its 9/10 now")

    assert replies == outcome("urgent")
    conv = conversation(patient)
    assert conv.tier == 2 and "U11" in conv.reasons
    assert row(patient, "checkin.soon_1w").pain_score == 9


# ---------------------------------------------------------------- unreadable replies, scores


def test_a_picture_in_reply_to_a_check_in_gets_a_friendly_re_ask(
    client: Client, clock, outbox
) -> None:
    patient = a_number()
    triage(client, patient, ROUTINE_EN, tier=0)
    checkin_arrives(clock, outbox, 14, patient)

    replies = text(
        client,
        patient,
        "",
        NumMedia="1",
        MediaUrl0="https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1",
    )

    assert replies == [msg("sys.unreadable"), msg("checkin.reask")]
    # the picture used no re-ask: two unclear texts after it still get asked again first
    assert text(client, patient, "hmm") == [msg("checkin.reask")]
    assert text(client, patient, "better") == [msg("checkin.signs")]


def test_the_pain_score_of_each_contact_is_kept_on_its_check_in(
    client: Client, clock, outbox
) -> None:
    patient = a_number()
    triage(client, patient, ROUTINE_EN, tier=0)

    checkin_arrives(clock, outbox, 14, patient)
    text(client, patient, "about a 4")
    text(client, patient, "no")
    checkin_arrives(clock, outbox, 42, patient)
    text(client, patient, "2, better")
    text(client, patient, "no")

    two, six = row(patient, "checkin.routine_2w"), row(patient, "checkin.six_weeks", tier=0)
    assert (two.pain_score, two.trend) == (4, "same")
    assert (six.pain_score, six.trend) == (2, "better")
    assert two.replied_at == OUTCOME_AT + dt.timedelta(days=14)
    assert six.replied_at == OUTCOME_AT + dt.timedelta(days=42)
    assert conversation(patient).state["scores"] == [4, 2]


# ---------------------------------------------------------------- the engine, edge cases

CONTENT = Content()


def engine_msg(key: str, lang: str = "en") -> str:
    return CONTENT.text(key, lang)


def after_triage(bodies: list[str]) -> State:
    state: State | None = None
    for body in bodies:
        state = advance(state, body).state
    assert state is not None and state.phase == "done"
    return state


def reply(
    state: State,
    body: str,
    *,
    weeks: float = 2.0,
    kind: str = "pain",
    checkin: int = 1,
    key: str = "checkin.routine_2w",
):
    return advance(
        state.to_dict(),
        body,
        checkin=SentCheckin(id=checkin, kind=kind, key=key),
        elapsed_weeks=weeks,
    )


def conversation_of(state: State, bodies: list[str], **kw):
    t = None
    for body in bodies:
        t = reply(state, body, **kw)
        state = t.state
    return t


def test_engine_unclear_twice_counts_as_the_same_not_better() -> None:
    routine = after_triage(ROUTINE_EN)

    second = conversation_of(routine, ["banana", "purple"])
    closing = conversation_of(routine, ["banana", "purple", "no"])
    at_six_weeks = conversation_of(routine, ["banana", "purple", "no"], weeks=6.0)

    assert second.replies == [engine_msg("checkin.signs")]
    assert second.checkin_answer == {"id": 1, "pain_score": None, "trend": "same"}
    assert closing.replies == [engine_msg("checkin.same")]
    assert at_six_weeks.replies == [engine_msg("checkin.see_provider")]
    assert at_six_weeks.state.tier == Tier.SOON


def test_engine_new_signs_yes_or_unclear_twice_is_urgent() -> None:
    routine = after_triage(ROUTINE_EN)
    urgent = [engine_msg("outcome.urgent"), engine_msg("outcome.disclaimer")]

    yes = conversation_of(routine, ["same", "yes"])
    unclear = conversation_of(routine, ["same", "maybe later", "dunno really"])

    assert yes.replies == urgent and yes.state.tier == Tier.URGENT
    assert "F08" in yes.state.reasons
    assert unclear.replies == urgent and "F03" in unclear.state.reasons


def test_engine_a_score_two_up_is_worse_even_when_they_say_better() -> None:
    routine = after_triage(ROUTINE_EN)  # 3 at triage

    t = conversation_of(routine, ["better, 5", "no"])

    assert t.replies == [engine_msg("checkin.worse")]
    assert t.state.tier == Tier.SOON and t.state.trend == "worse"


def test_engine_no_pain_at_six_weeks_is_resolved_but_easing_pain_sees_a_provider() -> None:
    routine = after_triage(ROUTINE_EN)

    gone = conversation_of(routine, ["0", "no"], weeks=6.0)
    easing = conversation_of(routine, ["better", "no"], weeks=6.0)

    assert gone.replies == [engine_msg("checkin.better")] and gone.state.tier == Tier.ROUTINE
    assert easing.replies == [engine_msg("checkin.see_provider")]
    assert easing.state.tier == Tier.SOON and "S01" in easing.state.reasons


def test_engine_an_urgent_patient_easing_at_six_weeks_is_still_told_to_see_someone() -> None:
    urgent = after_triage(URGENT_EN)

    t = conversation_of(urgent, ["better", "no"], weeks=6.0)

    assert t.replies == [engine_msg("checkin.see_provider")]
    assert t.state.tier == Tier.URGENT


def test_engine_after_an_emergency_a_sent_check_in_asks_nothing_more() -> None:
    routine = after_triage(ROUTINE_EN)
    emergency = reply(routine, "my legs are numb").state

    for body in ("ok", "worse", "no", "yes"):
        for kind in ("pain", "booked"):
            t = reply(emergency, body, kind=kind)
            assert t.replies == [engine_msg("sys.after_emergency")], (body, kind)


@pytest.mark.parametrize("body", ["yes, but its no better", "no, same as before"])
def test_engine_booked_answer_with_pain_news_is_read_against_the_rules(body: str) -> None:
    # No clear cause at triage, easing then (SOON for a cough); not improving now: U09, URGENT.
    soon = after_triage(
        ["my upper back hurts", "no", "no", "none", "3 better", "3 days, no reason, 30", "A"]
    )
    assert soon.tier == Tier.SOON

    t = reply(soon, body, kind="booked", weeks=1.0)

    assert t.replies == [engine_msg("outcome.urgent"), engine_msg("outcome.disclaimer")]
    assert t.state.tier == Tier.URGENT and "U09" in t.state.reasons
    assert t.outcome is not None


@pytest.mark.parametrize("body", ["a bit better", "a little better", "un poco mejor"])
def test_engine_partly_better_to_did_you_book_is_a_pain_answer(body: str) -> None:
    soon = after_triage(SOON_EN)

    t = reply(soon, body, kind="booked", weeks=1.0)

    assert t.state.pending == "checkin_signs"
    assert t.checkin_answer["trend"] == "better"


def test_engine_help_during_a_check_in_repeats_the_question() -> None:
    routine = after_triage(ROUTINE_EN)

    t = conversation_of(routine, ["same", "HELP"])

    assert t.replies == [engine_msg("sys.help"), engine_msg("checkin.signs")]
    assert t.state.pending == "checkin_signs"


def test_engine_a_text_after_the_check_in_closed_is_not_a_new_answer() -> None:
    routine = after_triage(ROUTINE_EN)
    closed = conversation_of(routine, ["better", "no"]).state

    t = reply(closed, "thanks!")

    assert t.replies == [engine_msg("sys.after_outcome")]
    assert t.checkin_answer is None


@pytest.mark.parametrize(
    "body", ["no pain now", "pain's gone", "its all gone", "pain free!", "ya no me duele"]
)
def test_engine_pain_gone_is_a_score_of_zero_and_closes_at_six_weeks(body: str) -> None:
    routine = after_triage(ROUTINE_EN)

    t = conversation_of(routine, [body, "no"], weeks=6.0)

    assert t.state.scores[-1] == 0
    assert t.state.tier == Tier.ROUTINE
    assert t.replies[0] in (engine_msg("checkin.better"), engine_msg("checkin.better", "es"))


@pytest.mark.parametrize("body", ["the pain is not gone", "it hasnt gone away"])
def test_engine_pain_not_gone_is_not_resolved(body: str) -> None:
    routine = after_triage(ROUTINE_EN)

    t = conversation_of(routine, [body, "same", "no"], weeks=6.0)

    assert 0 not in t.state.scores
    assert t.replies == [engine_msg("checkin.see_provider")] and t.state.tier == Tier.SOON


def test_engine_did_you_book_answered_only_with_better_repeats_the_booking_advice() -> None:
    soon = after_triage(SOON_EN)

    t = conversation_of(soon, ["much better now", "no"], kind="booked", weeks=1.0)

    assert t.replies == [engine_msg("outcome.soon"), engine_msg("outcome.soon_watch")]
    assert t.state.tier == Tier.SOON


def test_engine_switching_language_during_a_check_in_asks_it_again_in_that_language() -> None:
    routine = after_triage(ROUTINE_EN)

    t = reply(routine, "espanol", key="checkin.six_weeks", weeks=6.0)

    assert t.replies == [
        engine_msg("sys.language_set", "es"),
        engine_msg("checkin.six_weeks", "es"),
    ]
    assert t.state.phase == "checkin" and t.state.pending == "checkin_pain"
