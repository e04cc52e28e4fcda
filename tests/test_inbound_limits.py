"""Per-sender limits on inbound texts (triage/inbound_limits.py), through the signed webhook.

SMS pumping (a flood of texts to make us answer each one) and loops with auto-responders cost
money and drown real conversations; but the service's first rule is never to under-triage.
So every text is stored and read, an emergency is always answered, and only the rest is held.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
import time_machine
from django.test import Client

from tests.conftest import FAKE_AUTH_TOKEN
from tests.scripts import ROUTINE_EN, text_signed
from triage import defaults
from triage.models import Conversation, Message, Person

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("signed_webhook")]

NOTICE = defaults.MESSAGES["sys.inbound_limit"]["en"]
NOTICE_UK = defaults.MESSAGES["sys.inbound_limit_gb"]["en"]
EMERGENCY = defaults.MESSAGES["outcome.emergency"]["en"]
START = dt.datetime(2025, 3, 3, 15, 0, tzinfo=dt.UTC)
_numbers = itertools.count(300)


@pytest.fixture(autouse=True)
def _limits(settings: Any) -> None:
    settings.INBOUND_MAX_TEXTS = 20
    settings.INBOUND_WINDOW_SECONDS = 600
    settings.INBOUND_LOOP_REPEATS = 3
    settings.INBOUND_LOOP_WINDOW_SECONDS = 600


@pytest.fixture
def clock() -> Any:
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def text(client: Client, from_: str, body: str) -> list[str]:
    return text_signed(client, from_, body, token=FAKE_AUTH_TOKEN)


def a_us_number() -> str:
    return f"+1555124{next(_numbers):04d}"


def flood(count: int) -> list[str]:
    """`count` different texts: the routine script, then chatter after its outcome."""
    extra = [f"ok noted {n} thanks" for n in range(count)]
    return (ROUTINE_EN + extra)[:count]


def inbound(from_: str) -> list[Message]:
    return list(Message.objects.filter(person__address=from_, direction=Message.Direction.INBOUND))


# ---------------------------------------------------------------- the rate limit


def test_it_answers_up_to_the_limit_then_sends_one_notice_then_nothing(client: Client) -> None:
    patient = a_us_number()

    turns = [text(client, patient, body) for body in flood(25)]

    assert all(turns[:20]), "every text up to the limit is answered"
    assert turns[20] == [NOTICE]
    assert turns[21:] == [[], [], [], []]
    stored = inbound(patient)
    assert [m.body for m in stored] == flood(25)
    assert [m.status for m in stored[20:]] == [Message.Status.IGNORED] * 5
    assert all("inbound_limit" in m.analysis["flags"] for m in stored[20:])
    # Held texts do not move the conversation.
    conv = Conversation.objects.get(person__address=patient)
    assert conv.state["texts_in"] == 20


def test_it_answers_an_emergency_from_a_sender_over_the_limit(client: Client) -> None:
    patient = a_us_number()
    assert [text(client, patient, body) for body in flood(22)][-1] == [], "over the limit"

    replies = text(client, patient, "suddenly i cant feel my legs")

    assert replies == [EMERGENCY]
    conv = Conversation.objects.get(person__address=patient)
    assert conv.tier == 3 and conv.reasons == ["E02"]  # E02: leg weakness or numbness
    assert inbound(patient)[-1].status == Message.Status.RECEIVED


def test_it_answers_a_new_warning_sign_from_a_sender_over_the_limit(client: Client) -> None:
    patient = a_us_number()
    assert [text(client, patient, body) for body in flood(22)][-1] == [], "over the limit"
    assert Conversation.objects.get(person__address=patient).tier == 0

    replies = text(client, patient, "now i have a fever too")

    assert "today" in replies[0]
    assert Conversation.objects.get(person__address=patient).tier == 2


def test_it_honours_stop_from_a_sender_over_the_limit(client: Client) -> None:
    patient = a_us_number()
    assert [text(client, patient, body) for body in flood(22)][-1] == [], "over the limit"

    replies = text(client, patient, "STOP")

    assert replies == [defaults.MESSAGES["sys.optout"]["en"]]
    assert Person.objects.get(address=patient).opted_out


def test_it_never_sends_the_notice_to_someone_who_opted_out(client: Client) -> None:
    patient = a_us_number()
    text(client, patient, "my upper back hurts")
    text(client, patient, "STOP")

    turns = [text(client, patient, f"are you there {n}") for n in range(25)]

    assert turns == [[]] * 25
    assert len(inbound(patient)) == 27


def test_it_tells_a_uk_sender_to_call_999(client: Client) -> None:
    patient = "+447400123499"
    turns = [text(client, patient, body) for body in flood(21)]

    assert turns[20] == [NOTICE_UK]


def test_it_writes_the_notice_in_the_senders_language(client: Client) -> None:
    patient = a_us_number()
    text(client, patient, "me duele la parte alta de la espalda")
    turns = [text(client, patient, f"hola otra vez numero {n}") for n in range(20)]

    assert turns[19] == [defaults.MESSAGES["sys.inbound_limit"]["es"]]


def test_it_answers_again_once_the_window_has_room_and_notices_once_a_window(
    client: Client, clock: Any
) -> None:
    patient = a_us_number()
    first = [text(client, patient, body) for body in flood(22)]
    assert first[20] == [NOTICE] and first[21] == []

    clock.shift(dt.timedelta(seconds=601))
    later = text(client, patient, "thanks for the advice")
    assert later and later != [NOTICE]

    # A second flood, in a new window: one new notice, then silence again.
    again = [text(client, patient, f"flood again {n}") for n in range(21)]
    assert again.count([NOTICE]) == 1
    assert again[-1] == []


def test_it_limits_each_sender_on_their_own(client: Client) -> None:
    flooder, other = a_us_number(), a_us_number()
    assert [text(client, flooder, body) for body in flood(22)][-1] == []

    assert text(client, other, "my upper back hurts")[0].startswith("BackCheck")


def test_it_does_not_limit_staff_in_the_simulator(settings: Any, django_user_model: Any) -> None:
    from clinic.simulator import simulator_person, simulator_send

    settings.INBOUND_MAX_TEXTS = 3
    staff = django_user_model.objects.create_user("sim-staff")
    person = simulator_person(user_id=staff.pk, country="US")

    results = [simulator_send(person=person, text=body) for body in flood(7)]

    assert all(r.replies and NOTICE not in r.replies for r in results)


# ---------------------------------------------------------------- loops


def test_it_falls_silent_when_an_auto_responder_repeats_itself(client: Client) -> None:
    robot = a_us_number()
    auto_reply = "I am driving right now and will text you back later."

    turns = [text(client, robot, auto_reply) for _ in range(5)]

    assert turns[0] and turns[1], "the first two are answered (welcome, then a re-ask)"
    assert turns[2:] == [[], [], []]
    stored = inbound(robot)
    assert len(stored) == 5
    assert all("loop" in m.analysis["flags"] for m in stored[2:])


def test_it_stops_the_loop_an_echo_of_our_advice_would_make(client: Client) -> None:
    robot = a_us_number()
    for body in ROUTINE_EN:
        text(client, robot, body)
    after_outcome = defaults.MESSAGES["sys.after_outcome"]["en"]

    turns = [text(client, robot, after_outcome) for _ in range(4)]

    assert turns[:2] == [[after_outcome], [after_outcome]]
    assert turns[2:] == [[], []]


def test_it_answers_a_person_who_says_no_to_question_after_question(client: Client) -> None:
    patient = a_us_number()
    text(client, patient, "my upper back hurts after lifting a box")

    turns = [text(client, patient, "no") for _ in range(3)]

    assert all(turns)
    assert len({tuple(t) for t in turns}) == 3, "each no answers a different question"


def test_it_answers_the_same_text_when_it_is_not_a_loop_in_a_row(client: Client) -> None:
    patient = a_us_number()
    for body in ROUTINE_EN:
        text(client, patient, body)
    chatter = "thank you so much"

    turns = [text(client, patient, body) for body in (chatter, chatter, "ok", chatter, chatter)]

    assert all(turns)


# ---------------------------------------------------------------- repeated emergencies


def test_it_answers_an_emergency_once_when_a_robot_repeats_it(client: Client) -> None:
    robot = a_us_number()
    auto_reply = "Auto-reply: out with chest pain and cant breathe, back soon"

    turns = [text(client, robot, auto_reply) for _ in range(4)]

    assert turns[0] == [EMERGENCY]
    assert turns[1:] == [[], [], []]
    assert all("emergency_echo" in m.analysis["flags"] for m in inbound(robot)[1:])


def test_it_answers_a_person_who_repeats_an_emergency_a_minute_later(
    client: Client, clock: Any
) -> None:
    patient = a_us_number()
    emergency = "i cant feel my legs and cant pee"
    assert text(client, patient, emergency) == [EMERGENCY]

    clock.shift(dt.timedelta(seconds=61))

    assert text(client, patient, emergency) == [EMERGENCY]


def test_it_answers_a_different_emergency_at_once(client: Client) -> None:
    patient = a_us_number()
    assert text(client, patient, "i cant feel my legs") == [EMERGENCY]

    assert text(client, patient, "now chest pain too") == [EMERGENCY]


def test_it_ends_the_loop_a_robot_echoing_our_emergency_texts_would_make(client: Client) -> None:
    """A robot echoing our emergency-screen question reads as an emergency; our advice comes
    back, then our after-emergency text bounces until the loop guard ends it."""
    robot = a_us_number()
    question = defaults.MESSAGES["q.emergency_screen"]["en"]
    assert text(client, robot, question) == [EMERGENCY]
    assert text(client, robot, EMERGENCY)  # "if you haven't yet, call 911"
    after = defaults.MESSAGES["sys.after_emergency"]["en"]

    turns = [text(client, robot, after) for _ in range(4)]

    assert turns == [[after], [after], [], []]
