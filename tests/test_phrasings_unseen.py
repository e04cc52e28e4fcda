"""Emergency and urgent signs as people nobody had tested with text them, and their denials.

Each phrasing here was missed (read as ROUTINE, or as a lesser tier) before the vocabulary of
`triage/lexicon.py` grew to cover its family: UK and US slang ("my legs went", "numb fanny",
"can't have a wee"), gait as people describe it ("need to hold onto furniture to walk"), lost
bladder sensation ("can't tell when I need to pee"), Spanish and Spanglish, held keys
("weeeak"), and plain words for stroke, heart, breathing and crisis signs. The denials beside
them must stay denials. Over-triage is acceptable, under-triage is not (rules.md F02).
"""

from __future__ import annotations

import itertools

import pytest
from django.test import Client

from tests.conftest import FAKE_AUTH_TOKEN
from tests.scripts import ROUTINE_EN, text_signed
from triage.conversation import Checkin, Person, State, advance
from triage.models import Conversation
from triage.rules import Tier

US = Person(opted_out=False, language=None, country="US")

_numbers = itertools.count(100)


def first_text(body: str):
    return advance({}, body, person=US)


# ---------------------------------------------------------------- emergencies

EMERGENCIES = [
    # E01 leg weakness and gait
    ("legs went out from under me", "E01"),
    ("my legs feel like noodles", "E01"),
    ("legs like spaghetti", "E01"),
    ("my legs are failing", "E01"),
    ("legs wont cooperate", "E01"),
    ("my legs have gone", "E01"),
    ("i fell over cos my legs went", "E01"),
    ("my legs just went", "E01"),
    ("i lost strength in my legs", "E01"),
    ("no strength in my legs", "E01"),
    ("my legs have no strength", "E01"),
    ("cant put weight on my legs", "E01"),
    ("walking is difficult", "E01"),
    ("im walking funny and my legs feel weird", "E01"),
    ("i'm unsteady on my feet", "E01"),
    ("cant do the stairs", "E01"),
    ("need to hold onto furniture to walk", "E01"),
    ("i need a stick to walk now", "E01"),
    ("had to crawl to the loo", "E01"),
    ("my foot keeps catching on the floor", "E01"),
    ("cant wiggle my toes", "E01"),
    ("my legs are weeeak", "E01"),
    ("cant wlk", "E01"),
    ("no tengo fuerza en las piernas", "E01"),
    ("mis legs no tienen fuerza", "E01"),
    ("siento las piernas como de trapo", "E01"),
    ("piernas de gelatina", "E01"),
    ("siento las piernas como de piedra", "E01"),
    ("me tiemblan las piernas", "E01"),
    ("mis piernas no sirven", "E01"),
    ("no me puedo parar", "E01"),
    ("no aguanto estar de pie", "E01"),
    ("arrastro el pie", "E01"),
    ("se me cae el pie", "E01"),
    ("camino raro", "E01"),
    # E02 numbness: legs, bare, saddle
    ("my legs feel like theyre not mine", "E02"),
    ("electric shocks down my legs", "E02"),
    ("siento toques en las piernas", "E02"),
    ("feet feel like cotton wool", "E02"),
    ("i feel like im walking on cotton wool", "E02"),
    ("the pain is very bad and my legs feel funny", "E02"),
    ("i have pins and needles", "E02"),
    ("im numb", "E02"),
    ("tingling", "E02"),
    ("everything is numb", "E02"),
    ("numb from the waist down", "E02"),
    ("cant feel anything below my waist", "E02"),
    ("numb down below", "E02"),
    ("my fanny is numb", "E02"),
    ("my minge is numb", "E02"),
    ("my willy is numb", "E02"),
    ("my balls are numb", "E02"),
    ("numb taint", "E02"),
    ("cant feel the loo roll", "E02"),
    ("no siento mis partes", "E02"),
    # E03 bladder and bowel
    ("can't feel when i need to pee", "E03"),
    ("dont know when i need to pee", "E03"),
    ("i dont feel the urge to pee", "E03"),
    ("i cant tell when i need the toilet", "E03"),
    ("i cant tell if i need a poo", "E03"),
    ("i can't feel myself wee", "E03"),
    ("i cant feel when im going to the loo", "E03"),
    ("no siento ganas de orinar", "E03"),
    ("no siento cuando tengo que orinar", "E03"),
    ("ya no siento ganas de ir al bano", "E03"),
    ("bladder wont empty", "E03"),
    ("urine wont come out", "E03"),
    ("struggling to go to the toilet", "E03"),
    ("can't have a wee", "E03"),
    ("haven't had a wee since this morning", "E03"),
    ("i'm bursting but can't go", "E03"),
    ("need to pee but can't", "E03"),
    ("really need to pee but nothing comes", "E03"),
    ("pee only dribbles out", "E03"),
    ("Yesterday I had difficulty passing water.", "E03"),
    ("I have been having trouble with my water since Tuesday", "E03"),
    ("my waterworks have stopped", "E03"),
    ("the waterworks have packed in", "E03"),
    ("llevo dos dias sin orinar", "E03"),
    ("tengo la vejiga llena y no sale nada", "E03"),
    ("no puedo hacer del bano", "E03"),
    ("i leaked poo", "E03"),
    ("i keep having little accidents", "E03"),
    ("poo came out without me knowing", "E03"),
    ("i dribble urine", "E03"),
    ("sometimes i dribble", "E03"),
    ("occasional leaking", "E03"),
    ("i weed myself", "E03"),
    ("ive been weeing myself", "E03"),
    ("poo'd myself", "E03"),
    ("ive shat the bed", "E03"),
    ("bowels have gone", "E03"),
    ("my bladder let go", "E03"),
    ("i've lost control down below", "E03"),
    ("lost control of my waterworks", "E03"),
    ("se me sale la pipi", "E03"),
    ("me hago pipi sin querer", "E03"),
    ("me hice del bano encima", "E03"),
    # E04 stroke signs
    ("my smile is lopsided", "E04"),
    ("my face went wonky", "E04"),
    ("my words are coming out wrong", "E04"),
    ("se me cayo la cara", "E04"),
    ("tengo la cara chueca", "E04"),
    ("hablo arrastrando las palabras", "E04"),
    # E05 heart
    ("pain going down my left arm", "E05"),
    ("my left arm is hurting", "E05"),
    ("aching left arm", "E05"),
    ("pain in my neck and jaw", "E05"),
    ("i think its my heart", "E05"),
    ("my heart is racing", "E05"),
    ("me late el corazon muy rapido", "E05"),
    ("chest is killing me", "E05"),
    ("chest burns", "E05"),
    ("chest discomfort", "E05"),
    ("i'm clammy and sweaty", "E05"),
    ("i feel sick and sweaty", "E05"),
    ("feels like heartburn but worse", "E05"),
    ("i feel faint", "E05"),
    ("an elephant is sitting on me", "E05"),
    ("i'm about to pass out", "E05"),
    # E06 breathing
    ("cant talk in full sentences", "E06"),
    ("breathing is really hard", "E06"),
    ("i can't get a full breath", "E06"),
    ("struggling for breath", "E06"),
    ("fighting for air", "E06"),
    ("my ribs are in a vice and i am gulping", "E06"),
    ("i'm breathing funny", "E06"),
    ("feeling like i'm drowning", "E06"),
    ("cant breathhh", "E06"),
    ("my lips are blue", "E06"),
    ("breathing fast", "E06"),
    ("no me entra aire", "E06"),
    ("respiro con dificultad", "E06"),
    ("me cuesta agarrar aire", "E06"),
    ("ando corto de respiracion", "E06"),
    ("no puedo breathe", "E06"),
    # E07 blood
    ("coughing up clots", "E07"),
    ("coughing blod", "E07"),
    ("brought up blood", "E07"),
    ("vomiting blood", "E07"),
    ("vomito sangre", "E07"),
    # E08 sudden severe / tearing
    ("pain is 10 out of 10 and came suddenly", "E08"),
    ("felt something rip", "E08"),
    ("the pain hit me like a truck", "E08"),
    ("thunderclap pain in my back", "E08"),
    ("pain like a knife in my back came on suddenly", "E08"),
    ("dolor repentino y muy fuerte en la espalda", "E08"),
    # E09 major trauma
    ("fell 10 feet", "E09"),
    ("fell about 3 meters", "E09"),
    ("me cai de 3 metros", "E09"),
    ("i fell down a flight of stairs", "E09"),
    ("i fell from the second floor", "E09"),
    ("me cai de un segundo piso", "E09"),
    ("drunk driver hit me", "E09"),
    ("car flipped", "E09"),
    ("came off my motorbike", "E09"),
    ("fell out of a tree", "E09"),
    ("hit by a lorry", "E09"),
    ("was in a pile up", "E09"),
    # E11 sepsis
    ("i have a temperature and i'm all muddled", "E11"),
    ("fever and drowsy", "E11"),
    ("i am boiling and away with the fairies", "E11"),
    # E12 crisis
    ("i'm going to end it", "E12"),
    ("i just want it all to end", "E12"),
    ("i cant go on", "E12"),
    ("what's the point in living", "E12"),
    ("life isnt worth living", "E12"),
    ("i've been cutting", "E12"),
    ("i took all my pills", "E12"),
    ("ya no aguanto mas la vida", "E12"),
    ("mejor me muero", "E12"),
    ("no vale la pena vivir", "E12"),
    ("me tome todas las pastillas", "E12"),
    ("ya no quiero estar aqui", "E12"),
]


@pytest.mark.parametrize(("sent", "rule"), EMERGENCIES)
def test_it_sends_the_emergency_advice_for_the_first_text(sent: str, rule: str) -> None:
    t = first_text(sent)

    assert t.emergency and rule in t.state.reasons, t.state.reasons
    assert t.state.tier == Tier.EMERGENCY


# A few of each family, typed as the answer to a later question or to a check-in weeks later:
# every inbound text is screened (rules.md F01, F08).
LATER = [
    ("my legs just went", "E01"),
    ("need to hold onto furniture to walk", "E01"),
    ("numb fanny", "E02"),
    ("i have pins and needles", "E02"),
    ("can't have a wee", "E03"),
    ("can't feel when i need to pee", "E03"),
    ("no siento ganas de orinar", "E03"),
    ("my smile is lopsided", "E04"),
    ("my heart is racing", "E05"),
    ("struggling for breath", "E06"),
    ("vomiting blood", "E07"),
    ("the pain hit me like a truck", "E08"),
    ("fell 10 feet", "E09"),
    ("i cant go on", "E12"),
]


def mid_triage() -> State:
    state = None
    for body in ["my upper back hurts", "no"]:
        t = advance(state, body, person=US)
        state = t.state
        assert not t.emergency
    return state


@pytest.mark.parametrize(("sent", "rule"), LATER)
def test_it_sends_the_emergency_advice_for_an_answer_mid_triage(sent: str, rule: str) -> None:
    t = advance(mid_triage(), sent, person=US)

    assert t.emergency and rule in t.state.reasons, t.state.reasons


@pytest.mark.parametrize(("sent", "rule"), LATER)
def test_it_sends_the_emergency_advice_for_a_check_in_reply(sent: str, rule: str) -> None:
    routine = None
    for body in ROUTINE_EN:
        routine = advance(routine, body, person=US).state
    assert routine.phase == "done" and routine.tier == Tier.ROUTINE

    t = advance(
        routine.to_dict(),
        sent,
        person=US,
        checkin=Checkin(id=1, kind="pain", key="checkin.routine_2w"),
        elapsed_weeks=2.0,
    )

    assert t.emergency and rule in t.state.reasons, t.state.reasons
    assert t.checkin_answer is not None and t.checkin_answer["trend"] == "worse"


# ---------------------------------------------------------------- urgent signs

URGENT = [
    ("feel hot and shivery", "U03"),
    ("night sweats", "U03"),
    ("soaked the sheets with sweat", "U03"),
    ("sudores nocturnos", "U03"),
    ("i feel like a furnace", "U03"),
    ("it gnaws at me in the wee hours", "U05"),
    ("my clothes are falling off me", "U04"),
    ("pants are loose lately", "U04"),
    ("la ropa me queda grande", "U04"),
    ("my back looks different", "U10"),
    ("pink spit when i cough", "U02"),
    ("i've got secondaries", "U01"),
    ("el peor dolor de mi vida", "U11"),
]


@pytest.mark.parametrize(("sent", "rule"), URGENT)
def test_it_reads_the_urgent_sign(sent: str, rule: str) -> None:
    t = first_text(sent)

    assert not t.emergency
    assert t.state.tier == Tier.URGENT and rule in t.state.reasons, t.state.reasons


@pytest.mark.parametrize(
    "sign", ["night sweats", "my clothes are falling off me"], ids=["sweats", "weight"]
)
def test_it_keeps_an_urgent_sign_typed_mid_triage_to_the_outcome(sign: str) -> None:
    state = None
    for body in [*ROUTINE_EN[:3], sign, *ROUTINE_EN[3:]]:
        state = advance(state, body, person=US).state

    assert state.phase == "done" and state.tier == Tier.URGENT, state.reasons


# ---------------------------------------------------------------- denials

DENIALS = [
    "no strength problems, i havent lost strength",
    "i havent lost strength",
    "my strength is fine",
    "not unsteady",
    "i'm steady on my feet",
    "i dont need a stick",
    "no noodle legs lol",
    "no balance problems",
    "i can walk fine",
    "i dont have any electric shocks",
    "i can feel when i need to pee",
    "i still feel the urge to pee",
    "i know when i need the toilet",
    "i can tell when i need the toilet",
    "i can empty my bladder fine",
    "no dribbling or leaking",
    "i dont leak",
    "no leaks",
    "no trouble with my waterworks",
    "no difficulty passing water",
    "no trouble peeing but trouble sleeping",
    "i have trouble sleeping and pee at night a lot",
    "no accidents with my bladder",
    "no problems with my water",
    "waterworks fine",
    "i need a wee",
    "i've been for a wee",
    "no numbness down there",
    "nothing wrong down there",
    "no tingling in my bits",
    "no palpitations",
    "no racing heart",
    "my heart is fine",
    "no fainting",
    "i didnt pass out",
    "no chest pain or tightness, no breathlessness",
    "i can breathe fine",
    "no blue lips",
    "no vomiting blood",
    "havent coughed up any blood",
    "no lopsided face",
    "my speech is fine",
    "no falls",
    "no accident",
    "no siento debilidad",
    "no siento hormigueo en las piernas",
    "no siento dolor al orinar",
    "no siento ardor al orinar",
    "no me tiemblan las piernas",
    "no tengo las piernas debiles",
    "no se me sale la orina",
    "no tengo palpitaciones",
    "no he vomitado sangre",
    "no me duele el pecho ni me falta el aire",
    "no night sweats",
    "no tengo sudores en la noche",
    "my weight is stable",
    "la ropa me queda igual",
    "my dad had a heart attack",
    "mi papa tuvo un infarto",
    "i piled up boxes and hurt my back",
]


@pytest.mark.parametrize("sent", DENIALS)
def test_it_does_not_send_the_emergency_advice_for_a_denial(sent: str) -> None:
    t = first_text(sent)

    assert not t.emergency, t.state.reasons
    assert t.state.tier < Tier.EMERGENCY


@pytest.mark.parametrize(
    "sent",
    ["no night sweats", "no fevers or chills", "clothes fit the same", "no lumps"],
)
def test_it_does_not_read_an_urgent_denial_as_urgent(sent: str) -> None:
    t = first_text(sent)

    assert t.state.tier == Tier.ROUTINE, t.state.reasons


# ---------------------------------------------------------------- through the signed webhook


def text(client: Client, from_: str, body: str) -> list[str]:
    return text_signed(client, from_, body, token=FAKE_AUTH_TOKEN)


def conversation(from_: str) -> Conversation:
    return Conversation.objects.filter(person__address=from_).latest("id")


@pytest.mark.django_db
@pytest.mark.usefixtures("signed_webhook")
@pytest.mark.parametrize(
    ("number", "sent", "rule", "call"),
    [
        ("+1555987", "i need a stick to walk now", "E01", "911"),
        ("+1555987", "no siento ganas de orinar", "E03", "911"),
        ("+1555987", "struggling for breath", "E06", "911"),
        ("+4474001", "my legs just went", "E01", "999"),
        ("+4474001", "can't have a wee since this morning", "E03", "999"),
        ("+4474001", "numb fanny and my back hurts", "E02", "999"),
    ],
    ids=["us-stick", "us-es-urge", "us-breath", "uk-legs-went", "uk-wee", "uk-fanny"],
)
def test_it_replies_with_the_emergency_advice_mid_triage_through_the_webhook(
    client: Client, number: str, sent: str, rule: str, call: str
) -> None:
    from_ = f"{number}{next(_numbers):04d}"
    text(client, from_, "my upper back hurts")

    replies = text(client, from_, sent)

    assert len(replies) >= 1 and call in replies[0], replies
    conv = conversation(from_)
    assert conv.tier == Tier.EMERGENCY and rule in conv.reasons, conv.reasons


@pytest.mark.django_db
@pytest.mark.usefixtures("signed_webhook")
@pytest.mark.parametrize("sent", ["i'm going to end it", "ya no quiero estar aqui"])
def test_it_replies_with_the_crisis_numbers_through_the_webhook(client: Client, sent: str) -> None:
    from_ = f"+1555987{next(_numbers):04d}"

    replies = text(client, from_, sent)

    assert any("988" in r for r in replies), replies
    assert "E12" in conversation(from_).reasons


@pytest.mark.django_db
@pytest.mark.usefixtures("signed_webhook")
def test_it_does_not_alarm_someone_who_denies_the_new_signs_through_the_webhook(
    client: Client,
) -> None:
    from_ = f"+1555987{next(_numbers):04d}"
    text(client, from_, "my upper back hurts")

    replies = text(client, from_, "no trouble peeing but trouble sleeping, no leaks, not unsteady")

    assert not any("911" in r for r in replies), replies
    assert (conversation(from_).tier or Tier.ROUTINE) < Tier.EMERGENCY
