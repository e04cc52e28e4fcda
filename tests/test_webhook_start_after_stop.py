"""STOP, then START: re-subscribed into a new episode, through the signed Twilio webhook.

What a patient expects: START confirms they are subscribed again, and their next text about
pain gets the triage a first-time patient gets - never the stopped episode's half-answered
questions or its outcome. Check-ins cancelled by STOP stay cancelled. The START text is
screened for emergencies like every other text (F01).
"""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest
from django.test import Client

from reminders.models import Checkin
from reminders.services import person_refused
from tests.conftest import FAKE_AUTH_TOKEN
from tests.scripts import ROUTINE_EN, ROUTINE_ES, URGENT_FEVER_EN, text_signed
from triage import conversation as engine
from triage.conversation import Content, Person, State, advance
from triage.models import Conversation
from triage.models import Person as PersonRow
from triage.selectors import content_load
from triage.understanding import Analysis, analyze

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("signed_webhook")]

_numbers = itertools.count(700)


def a_number() -> str:
    return f"+1202555{next(_numbers):04d}"


def text(client: Client, from_: str, body: str) -> list[str]:
    return text_signed(client, from_, body, token=FAKE_AUTH_TOKEN)


def chat(client: Client, from_: str, bodies: list[str]) -> list[list[str]]:
    return [text(client, from_, body) for body in bodies]


def msg(key: str, lang: str = "en") -> str:
    return content_load().text(key, lang)


def episodes(from_: str) -> list[Conversation]:
    return list(Conversation.objects.filter(person__address=from_).order_by("id"))


def first_time(client: Client, bodies: list[str]) -> list[list[str]]:
    """What a patient who never texted before gets for the same texts."""
    return chat(client, a_number(), bodies)


# ---------------------------------------------------------------- a fresh start


@pytest.mark.parametrize(
    "before_stop",
    [ROUTINE_EN[:3], ROUTINE_EN[:5], ROUTINE_EN, URGENT_FEVER_EN],
    ids=["two-questions-answered", "mid-history", "routine-outcome", "urgent-outcome"],
)
def test_after_stop_and_start_a_text_about_pain_gets_a_new_triage_from_the_beginning(
    client: Client, before_stop: list[str]
) -> None:
    patient = a_number()
    chat(client, patient, before_stop)
    text(client, patient, "STOP")
    stopped_state = episodes(patient)[-1].state

    assert text(client, patient, "START") == [msg("sys.optin")]
    again = chat(client, patient, ROUTINE_EN)

    # Exactly what a first-time patient gets, to the same outcome and plan.
    assert again == first_time(client, ROUTINE_EN)
    stopped, new = episodes(patient)
    assert stopped.status == Conversation.Status.STOPPED
    assert stopped.state == stopped_state  # the old episode is left as it was
    assert new.status == Conversation.Status.ACTIVE
    assert (new.tier, new.reasons) == (0, ["R01"])
    assert new.texts_to_outcome == len(ROUTINE_EN) + 1  # START is the episode's first text
    assert new.messages.filter(direction="in").first().body == "START"


def test_start_after_an_emergency_stop_does_not_answer_call_911_to_a_new_triage(
    client: Client,
) -> None:
    patient = a_number()
    assert "911" in text(client, patient, "STOP my legs are numb")[0]

    text(client, patient, "START")
    replies = text(client, patient, "my upper back hurts")

    assert replies == first_time(client, ["my upper back hurts"])[0]
    assert replies != [msg("sys.after_emergency")]
    stopped, new = episodes(patient)
    assert stopped.tier == 3 and new.tier is None


def test_a_spanish_patient_restarting_with_si_gets_the_spanish_triage_afresh(
    client: Client,
) -> None:
    patient = a_number()
    chat(client, patient, ROUTINE_ES[:4])
    text(client, patient, "BAJA")

    assert text(client, patient, "si") == [msg("sys.optin", "es")]
    again = chat(client, patient, ROUTINE_ES)

    assert again == first_time(client, ROUTINE_ES)
    assert episodes(patient)[-1].tier == 0


def test_start_brings_back_no_cancelled_check_in_and_the_new_outcome_has_its_own_plan(
    client: Client,
) -> None:
    patient = a_number()
    chat(client, patient, ROUTINE_EN)
    old = episodes(patient)[0]
    assert old.checkins.filter(status=Checkin.Status.PENDING).count() == 2
    text(client, patient, "STOP")
    text(client, patient, "START")

    assert not Checkin.objects.filter(person__address=patient, status="pending").exists()
    chat(client, patient, ROUTINE_EN)

    new = episodes(patient)[-1]
    assert (
        sorted(old.checkins.values_list("status", "cancelled_reason"))
        == [("cancelled", "opted out")] * 2
    )
    assert sorted(new.checkins.filter(status="pending").values_list("message_key", flat=True)) == [
        "checkin.routine_2w",
        "checkin.six_weeks",
    ]


def test_start_after_a_carrier_opt_out_mid_triage_also_starts_afresh(client: Client) -> None:
    # Twilio reported 21610 (the number unsubscribed with the carrier): no STOP text reached
    # us, so the episode was never stopped; START still begins a new one.
    patient = a_number()
    chat(client, patient, ROUTINE_EN[:4])
    person_refused(PersonRow.objects.get(address=patient), opted_out=True)

    assert text(client, patient, "START") == [msg("sys.optin")]
    replies = text(client, patient, ROUTINE_EN[0])

    assert replies == first_time(client, ROUTINE_EN[:1])[0]
    old, new = episodes(patient)
    assert old.status == Conversation.Status.CLOSED
    assert new.status == Conversation.Status.ACTIVE


def test_start_as_a_first_text_opens_one_episode_not_an_empty_closed_one(
    client: Client,
) -> None:
    patient = a_number()
    PersonRow.objects.create(
        address=patient, phone=patient, country="US", opted_out_at="2026-01-01T00:00Z"
    )
    text(client, patient, "hello")  # opted out: logged, not answered

    assert text(client, patient, "START") == [msg("sys.optin")]
    text(client, patient, ROUTINE_EN[0])

    assert [c.status for c in episodes(patient)] == [Conversation.Status.ACTIVE]


# ---------------------------------------------------------------- emergencies in the START text


@pytest.mark.parametrize(
    ("body", "lang"),
    [("START my legs went numb", "en"), ("START i cant feel my legs", "en")],
)
def test_a_start_text_describing_an_emergency_gets_911_advice(
    client: Client, body: str, lang: str
) -> None:
    patient = a_number()
    chat(client, patient, ROUTINE_EN[:3])
    text(client, patient, "STOP")

    replies = text(client, patient, body)

    assert replies[0] == msg("outcome.emergency", lang)
    assert Conversation.objects.filter(person__address=patient, tier=3).exists()


def test_an_opt_in_that_also_describes_an_emergency_gets_the_advice_first_and_a_fresh_episode(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Today only a lone keyword opts in, and a staff keyword never overrides an emergency
    # reading; should "START my legs went numb" ever be read as START, it is still screened.
    def read_as_start(text: str, **kwargs: object) -> Analysis:
        return replace(analyze(text, **kwargs), intent="opt_in")

    monkeypatch.setattr(engine, "analyze", read_as_start)
    stopped = State(phase="asking", pending="history", answered=["emergency_screen"], tier=1)
    content = Content()

    t = advance(
        stopped.to_dict(), "START my legs went numb", person=Person(opted_out=True, language="en")
    )

    assert t.action == "opt_in"
    assert t.emergency
    assert t.replies == [content.text("outcome.emergency", "en"), content.text("sys.optin", "en")]
    assert t.state.answered == [] and t.state.pending is None
    assert t.state.tier == 3 and "leg_numbness_tingling" in t.state.symptoms


def test_the_engine_starts_an_opt_in_from_a_blank_state() -> None:
    stopped = State(
        phase="done", tier=2, reasons=["U03"], symptoms=["fever"], answered=["urgent_signs"]
    )

    t = advance(stopped.to_dict(), "START", person=Person(opted_out=True, language="en"))

    assert t.action == "opt_in"
    assert t.state == State(texts_in=1)
