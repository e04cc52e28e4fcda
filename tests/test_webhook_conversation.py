"""Whole conversations through the signed Twilio webhook, as a patient would have them.

`text(client, from_, body)` signs and posts one inbound SMS and returns the <Message> bodies the
patient gets back; the database is then checked for what an operator would see in admin.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from django.test import Client

from tests.conftest import FAKE_AUTH_TOKEN
from tests.scripts import ROUTINE_EN, ROUTINE_ES, text_signed
from triage.models import Conversation, Message, Person

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("signed_webhook")]

US = "+15551230001"
UK = "+447400123456"  # a valid GB mobile
_numbers = itertools.count(100)


def text(client: Client, from_: str, body: str) -> list[str]:
    """Send one signed inbound SMS; return the replies the patient gets."""
    return text_signed(client, from_, body, token=FAKE_AUTH_TOKEN)


def chat(client: Client, from_: str, bodies: list[str]) -> list[list[str]]:
    return [text(client, from_, body) for body in bodies]


def conversation(from_: str) -> Conversation:
    return Conversation.objects.filter(person__address=from_).latest("id")


def a_us_number() -> str:
    return f"+1555123{next(_numbers):04d}"


# ---------------------------------------------------------------- outcomes


def test_it_takes_a_routine_english_patient_to_self_care_advice(client: Client) -> None:
    turns = chat(client, US, ROUTINE_EN)

    assert "BackCheck" in turns[0][0] and "YES or NO" in turns[0][1]
    assert all(turns), "every text gets an answer until the outcome"
    outcome = turns[-1]
    assert "Sounds like a strain" in outcome[0]
    assert "911" in outcome[1]
    conv = conversation(US)
    assert conv.tier == 0
    assert conv.reasons == ["R01"]
    assert conv.texts_to_outcome == len(ROUTINE_EN)
    assert conv.outcome_at is not None
    assert conv.language == "en"
    assert conv.status == Conversation.Status.ACTIVE


def test_it_stores_the_outcome_for_clinicians(client: Client) -> None:
    turns = chat(client, US, ["my upper back hurts", "no", "no", "B"])

    assert "doctor or nurse today" in turns[-1][0]
    conv = conversation(US)
    assert conv.tier == 2
    assert conv.reasons == ["U03"]
    assert conv.texts_to_outcome == 4
    assert conv.outcome_at is not None


def test_it_keeps_the_first_outcome_time_when_the_patient_writes_again(client: Client) -> None:
    chat(client, US, ROUTINE_EN)
    first = conversation(US)

    after = text(client, US, "thanks")

    assert "RESTART" in after[0]
    conv = conversation(US)
    assert conv.pk == first.pk
    assert conv.outcome_at == first.outcome_at
    assert conv.texts_to_outcome == len(ROUTINE_EN)
    assert conv.tier == 0


def test_it_raises_an_outcome_to_emergency_when_a_red_flag_comes_later(client: Client) -> None:
    chat(client, US, ROUTINE_EN)

    replies = text(client, US, "now i cant feel my legs")

    assert len(replies) == 1 and "911" in replies[0]
    conv = conversation(US)
    assert conv.tier == 3
    assert "E02" in conv.reasons


def test_it_speaks_spanish_to_a_spanish_patient(client: Client) -> None:
    turns = chat(client, US, ROUTINE_ES)

    assert "unas preguntas" in turns[0][0]
    assert turns[0][1].startswith("¿Tiene AHORA")
    assert "Responda con las letras" in turns[2][0]
    assert "Parece una contractura" in turns[-1][0]
    english = ("Sounds like", "Reply YES", "How bad", "Do any of these")
    assert not [r for turn in turns for r in turn if any(w in r for w in english)]
    assert Person.objects.get(address=US).language == "es"
    conv = conversation(US)
    assert conv.language == "es"
    assert conv.tier == 0


# ---------------------------------------------------------------- emergencies


def test_it_sends_a_first_text_emergency_straight_to_911(client: Client) -> None:
    replies = text(client, US, "cant feel my legs")

    assert len(replies) == 1
    assert "911" in replies[0]
    conv = conversation(US)
    assert conv.tier == 3
    assert "E02" in conv.reasons
    assert conv.texts_to_outcome == 1
    assert Message.objects.filter(direction="out").count() == 1


def test_it_tells_a_uk_number_to_call_999(client: Client) -> None:
    replies = text(client, UK, "cant feel my legs")

    assert len(replies) == 1
    assert "999" in replies[0]
    assert "911" not in replies[0]
    assert Person.objects.get(address=UK).country == "GB"


def test_it_tells_a_us_number_to_call_911_not_999(client: Client) -> None:
    replies = text(client, "+12025550123", "cant feel my legs")

    assert "911" in replies[0]
    assert "999" not in replies[0]


def test_it_tells_a_uk_patient_who_answers_yes_to_the_screen_to_call_999(client: Client) -> None:
    text(client, UK, "my upper back hurts")

    replies = text(client, UK, "yes")

    assert conversation(UK).tier == 3
    assert len(replies) == 1
    assert "999" in replies[0]


@pytest.mark.parametrize(
    "number",
    ["+447911123456", "+447797123456", "+447624123456"],
    ids=["guernsey", "jersey", "isle-of-man"],
)
def test_it_tells_every_plus_44_number_to_call_999(client: Client, number: str) -> None:
    replies = text(client, number, "cant feel my legs")

    assert "999" in replies[0]


def test_it_drops_the_no_red_flags_reason_when_an_emergency_follows(client: Client) -> None:
    chat(client, US, ROUTINE_EN)
    text(client, US, "now i cant feel my legs")

    conv = conversation(US)
    assert conv.tier == 3
    assert "R01" not in conv.reasons


def test_it_answers_an_emergency_even_after_an_outcome_with_the_uk_number(client: Client) -> None:
    chat(client, UK, ROUTINE_EN)

    replies = text(client, UK, "i cant feel my legs")

    assert len(replies) == 1 and "999" in replies[0]


# ---------------------------------------------------------------- STOP and START


def test_it_confirms_stop_once_then_stays_silent(client: Client) -> None:
    text(client, US, "my upper back hurts")

    replies = text(client, US, "STOP")

    assert len(replies) == 1
    assert "unsubscribed" in replies[0]
    person = Person.objects.get(address=US)
    assert person.opted_out_at is not None
    assert Conversation.objects.filter(person=person, status="stopped").count() == 1
    for body in ["no", "my back still hurts", "hello?"]:
        assert text(client, US, body) == []
    ignored = Message.objects.filter(direction="in", status=Message.Status.IGNORED)
    assert ignored.count() == 3
    # one welcome turn (2 texts) and one confirmation, nothing since
    assert Message.objects.filter(direction="out").count() == 3


def test_it_folds_emergency_advice_into_a_stop_that_describes_one(client: Client) -> None:
    replies = text(client, US, "STOP my legs are numb")

    assert len(replies) == 1
    assert "unsubscribed" in replies[0]
    assert "911" in replies[0]
    assert Person.objects.get(address=US).opted_out_at is not None
    assert conversation(US).tier == 3


def test_it_does_not_treat_my_pain_wont_stop_as_an_opt_out(client: Client) -> None:
    replies = text(client, US, "my pain won't stop")

    assert replies
    assert not any("unsubscribed" in r for r in replies)
    assert Person.objects.get(address=US).opted_out_at is None
    assert conversation(US).status == Conversation.Status.ACTIVE


@pytest.mark.parametrize("keyword", ["START", "UNSTOP"])
def test_it_resubscribes_with_start_or_unstop(client: Client, keyword: str) -> None:
    text(client, US, "STOP")

    replies = text(client, US, keyword)

    assert len(replies) == 1
    assert "subscribed to BackCheck again" in replies[0]
    assert Person.objects.get(address=US).opted_out_at is None
    follow_up = text(client, US, "my upper back hurts")
    assert len(follow_up) == 2 and "BackCheck" in follow_up[0]


def test_it_still_gives_emergency_advice_to_someone_who_opted_out(client: Client) -> None:
    text(client, US, "STOP")

    replies = text(client, US, "cant feel my legs")

    assert len(replies) == 1 and "911" in replies[0]
    assert Person.objects.get(address=US).opted_out_at is not None
    assert Message.objects.filter(direction="out", body=replies[0]).count() == 1


def test_it_does_not_mark_an_answered_emergency_from_an_opted_out_person_ignored(
    client: Client,
) -> None:
    text(client, US, "STOP")
    text(client, US, "cant feel my legs")

    inbound = Message.objects.get(direction="in", body="cant feel my legs")
    assert inbound.status != Message.Status.IGNORED


# ---------------------------------------------------------------- HELP, RESTART


def test_it_answers_help_in_english(client: Client, settings: Any) -> None:
    settings.SUPPORT_CONTACT = "support@clinic.example"

    replies = text(client, US, "HELP")

    assert len(replies) == 1
    help_text = replies[0]
    assert "BackCheck" in help_text
    assert "STOP" in help_text
    assert "Not for emergencies" in help_text
    assert "support@clinic.example" in help_text


def test_it_answers_ayuda_in_spanish(client: Client, settings: Any) -> None:
    settings.SUPPORT_CONTACT = "ayuda@clinica.example"
    settings.SERVICE_NAME = "EspaldaCheck"

    replies = text(client, US, "AYUDA")

    assert len(replies) == 1
    help_text = replies[0]
    assert "EspaldaCheck" in help_text
    assert "STOP" in help_text
    assert "No es para emergencias" in help_text
    assert "ayuda@clinica.example" in help_text


def test_it_repeats_the_pending_question_after_help(client: Client) -> None:
    first = text(client, US, "my upper back hurts")

    replies = text(client, US, "HELP")

    assert "Not for emergencies" in replies[0]
    assert replies[1:] == first[1:]


def test_it_starts_a_new_conversation_on_restart(client: Client) -> None:
    chat(client, US, ["my upper back hurts", "no"])
    old = conversation(US)

    replies = text(client, US, "RESTART")

    assert "BackCheck" in replies[0]
    old.refresh_from_db()
    assert old.status == Conversation.Status.CLOSED
    new = conversation(US)
    assert new.pk != old.pk
    assert new.status == Conversation.Status.ACTIVE
    assert new.state["texts_in"] == 1
    assert new.state["pending"] == "emergency_screen"
    assert Conversation.objects.filter(person__address=US, status="active").count() == 1
    assert set(new.messages.filter(direction="out").values_list("body", flat=True)) == set(replies)


def test_it_files_the_restart_text_under_the_conversation_it_starts(client: Client) -> None:
    chat(client, US, ["my upper back hurts", "no", "RESTART"])

    new = conversation(US)
    restart_msg = Message.objects.get(direction="in", body="RESTART")
    assert restart_msg.conversation_id == new.pk


def test_it_keeps_people_apart(client: Client) -> None:
    other = a_us_number()
    text(client, US, "my upper back hurts")
    text(client, other, "cant feel my legs")

    replies = text(client, US, "no")

    assert "tearing pain" in replies[0]
    assert conversation(US).tier is None
    assert conversation(other).tier == 3


@pytest.mark.parametrize(
    "answer",
    ["no, only sometimes", "not really but sometimes", "a veces", "un poco", "no... a little"],
)
def test_it_takes_a_partial_yes_to_the_emergency_screen_as_yes(client: Client, answer: str) -> None:
    # Through the webhook the staff-edited answer words are loaded ("no" is one of them); they
    # must not turn "no, only sometimes" into a plain NO on the emergency question.
    patient = a_us_number()
    turns = chat(client, patient, ["my upper back hurts", answer])

    assert len(turns[1]) == 1 and "911" in turns[1][0]
    assert conversation(patient).tier == 3


def test_it_answers_help_after_stop_and_nothing_else(client: Client, settings: Any) -> None:
    patient = a_us_number()
    chat(client, patient, ["my upper back hurts", "STOP"])

    help_reply = text(client, patient, "HELP")
    chatter = text(client, patient, "hello? my back still hurts")

    assert len(help_reply) == 1 and settings.SUPPORT_CONTACT in help_reply[0]
    assert "STOP" in help_reply[0]
    assert chatter == []
    assert Person.objects.get(address=patient).opted_out  # HELP does not resubscribe


@pytest.mark.parametrize(
    ("later", "rule", "advice"),
    [
        ("now i have a fever too", "U03", "today"),
        ("ive lost weight without trying", "U04", "today"),
        ("cough for weeks now and always tired", "S03", "1-2 weeks"),
    ],
)
def test_it_raises_the_advice_when_a_new_warning_sign_comes_after_the_outcome(
    client: Client, later: str, rule: str, advice: str
) -> None:
    patient = a_us_number()
    chat(client, patient, ROUTINE_EN)
    assert conversation(patient).tier == 0

    replies = text(client, patient, later)

    assert advice in replies[0]
    conv = conversation(patient)
    assert conv.tier > 0 and rule in conv.reasons and "R01" not in conv.reasons


def test_it_thanks_a_patient_who_writes_again_with_nothing_new(client: Client) -> None:
    patient = a_us_number()
    chat(client, patient, ROUTINE_EN)

    replies = text(client, patient, "thanks, feeling a bit better already")

    assert replies == [msg_after_outcome()] and conversation(patient).tier == 0


def msg_after_outcome() -> str:
    from triage.models import ContentMessage

    return ContentMessage.objects.get(key="sys.after_outcome", language="en").text
