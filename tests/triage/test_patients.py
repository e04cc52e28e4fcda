"""Whole conversations with made-up patients, driven through triage.conversation.advance.

Each patient texts the way people do (lower case, typos, slang, words instead of letters) and
the tests check what they would see: the advice for their tier, in their language, with the
emergency text first and alone, and the tier never going down within an episode (F02).

Inbound texts until the outcome arrived (state.texts_in on the outcome turn):
    dee-legs-numb-first-text 1, ian-gb-legs-numb-second-text 2, marcus-yes-to-screen 2,
    olivia-gb-yes-to-screen 2, ruth-cancer-band-pain 5, kev-wet-himself-midflow 5,
    sam-stop-legs-numb 1, tom-tearing-pain 1, lucia-piernas-dormidas 1,
    jorge-si-al-cribado 2, ana-crisis 1, pedro-no-puede-orinar 5,
    priya-fever-letter-b 4, dan-no-reason-not-better 5, chloe-nine-out-of-ten 5,
    george-fell-at-58 6, jade-fell-on-steroids 7, lee-unclear-twice 5,
    maggie-breast-cancer 5, raj-wakes-at-night 4, bill-streaks-of-blood 4, carmen-fiebre 4,
    rosa-cancer-de-mama 5, miguel-no-entiende 5, nina-seven-weeks 6,
    frank-smoker-no-appetite 8, wes-physio-not-helping 7, sofia-dos-meses 6,
    elena-cansancio 7, amy-slept-funny 7, mo-help-midflow 8, zoe-restart 7,
    pat-lower-back-only 7, diego-ayuda 8, luis-lumbago 7
    (beth-stop and maria-baja opt out and get no outcome.)
    Median over the 35 outcomes: 5 texts.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from functools import cache

import pytest

from triage import defaults
from triage.conversation import Content, Person, Transition, advance
from triage.rules import Tier

E, U, S, R = Tier.EMERGENCY, Tier.URGENT, Tier.SOON, Tier.ROUTINE
CONTENT = Content()


def msg(key: str, lang: str = "en") -> str:
    return CONTENT.text(key, lang)


RENDERED = {lang: {msg(k, lang) for k in defaults.MESSAGES} for lang in ("en", "es")}


@dataclass(frozen=True)
class Patient:
    id: str
    texts: tuple[str, ...]
    tier: Tier | None  # None: they opt out before any outcome
    rules: tuple[str, ...] = ()  # rule ids that must be among the outcome's reasons
    lang: str = "en"
    country: str | None = None


def patient(
    pid: str,
    texts: list[str],
    tier: Tier | None,
    rules: list[str] | tuple[str, ...] = (),
    lang: str = "en",
    country: str | None = None,
) -> Patient:
    return Patient(pid, tuple(texts), tier, tuple(rules), lang, country)


PATIENTS = [
    # ---- EMERGENCY
    patient("dee-legs-numb-first-text",
            ["my legs r numb and tingly since this morning, upper back killing me"], E, ["E02"]),
    patient("ian-gb-legs-numb-second-text",
            ["hiya, pain between my shoulder blades", "both legs gone numb n tingly"], E, ["E02"],
            country="GB"),
    patient("marcus-yes-to-screen", ["pain in my upper back since the weekend", "Yeah"], E,
            ["E00"]),
    patient("olivia-gb-yes-to-screen", ["upper back agony since this morning", "yes"], E,
            ["E00"], country="GB"),
    patient("ruth-cancer-band-pain",
            ["ache between my shoulder blades", "no", "nope", "A",
             "yeah like a belt round my ribs"], E, ["E10"]),
    patient("kev-wet-himself-midflow",
            ["upper back pain", "no", "no", "none", "8 worse and i just wet myself"], E, ["E03"]),
    patient("sam-stop-legs-numb", ["STOP my legs are numb"], E, ["E02"]),
    patient("tom-tearing-pain", ["sudden ripping pain between my shoulder blades, worst ever"], E,
            ["E08"]),
    patient("lucia-piernas-dormidas", ["me duelen los omoplatos y tengo las piernas dormidas"], E,
            ["E02"], lang="es"),
    patient("jorge-si-al-cribado", ["dolor de espalda alta desde ayer", "sí"], E, ["E00"],
            lang="es"),
    patient("ana-crisis", ["me duele la espalda y ya no aguanto, me quiero morir"], E, ["E12"],
            lang="es"),
    patient("pedro-no-puede-orinar",
            ["hola me duele la espalda", "no", "no", "nada",
             "7 peor, y no puedo orinar desde anoche"], E, ["E03"], lang="es"),
    # ---- URGENT
    patient("priya-fever-letter-b", ["upper back hurts since friday", "no", "nope", "b"], U,
            ["U03"]),
    patient("dan-no-reason-not-better",
            ["mid back pain for 2 weeks, no reason", "no", "no", "none", "5 same"], U, ["U09"]),
    patient("chloe-nine-out-of-ten",
            ["my upper back is killing me", "no", "no", "nothing", "9 worse"], U, ["U11"]),
    patient("george-fell-at-58",
            ["slipped on ice and fell on my back", "no", "no", "none", "4 better", "3 days, 58"],
            U, ["U08"]),
    patient("jade-fell-on-steroids",
            ["i fell over at work, back sore", "no", "no", "none", "3, better",
             "2 days, fell, 31", "yes i take prednisone"], U, ["U08"]),
    patient("lee-unclear-twice",
            ["back hurts between my shoulders", "wdym", "idk", "no", "none"], U, ["F03"]),
    patient("maggie-breast-cancer",
            ["upper back ache", "nope", "nope", "i had breast cancer 5 yrs ago", "no"], U,
            ["U01"]),
    patient("raj-wakes-at-night",
            ["hi, pain between my shoulders", "no", "no", "it wakes me up at night"], U, ["U05"]),
    patient("bill-streaks-of-blood",
            ["sore between my shoulder blades", "no", "no",
             "coughed up a few streaks of blood this week"], U, ["U02"]),
    patient("carmen-fiebre", ["me duele la espalda alta", "no", "no", "b d"], U, ["U03", "U05"],
            lang="es"),
    patient("rosa-cancer-de-mama",
            ["hola, me duele entre los omoplatos", "no", "no",
             "A, tuve cancer de mama hace 3 años", "no"], U, ["U01"], lang="es"),
    patient("miguel-no-entiende", ["dolor de espalda", "mmm", "quien sabe", "no", "nada"], U,
            ["F03"], lang="es"),
    # ---- SOON
    patient("nina-seven-weeks",
            ["hurt my upper back lifting at the gym about 7 weeks ago", "no", "no", "none",
             "4 better", "35"], S, ["S01"]),
    patient("frank-smoker-no-appetite",
            ["ache in my upper back", "no", "no", "none", "3 getting better",
             "10 days, sat at desk all day, 47", "g", "yes smoked 20 yrs"], S, ["S08"]),
    patient("wes-physio-not-helping",
            ["upper back stiff for 3 weeks", "nope", "nope", "none", "5 same", "desk job, 38",
             "physio didnt help at all"], S, ["S02"]),
    patient("sofia-dos-meses",
            ["tengo dolor en la espalda alta desde hace 2 meses", "no", "no", "nada", "3 mejor",
             "por mala postura, 33"], S, ["S01"], lang="es"),
    patient("elena-cansancio",
            ["me duele la espalda arriba", "no", "no", "ninguna", "4 mejor",
             "1 semana, cargando a mi bebe, 28", "c"], S, ["S05"], lang="es"),
    # ---- ROUTINE
    patient("amy-slept-funny",
            ["hi, pain between my shoulders", "no", "no", "none of those",
             "its like a 4, getting better", "bout 2 wks, slept funny, im 29", "nah none"], R,
            ["R01"]),
    patient("mo-help-midflow",
            ["back pain between shoulder blades", "no", "HELP", "no", "none", "3 better",
             "2 wks, lifting, 44", "none"], R, ["R01"]),
    patient("zoe-restart",
            ["back pain", "no", "RESTART", "no", "no", "none", "2 better", "5 days, lifting, 30",
             "none"], R, ["R01"]),
    patient("pat-lower-back-only",
            ["lower back pain after gardening yesterday", "nope", "nah", "none", "3 better", "41",
             "none"], R, ["R02"]),
    patient("diego-ayuda",
            ["me duele la espalda alta", "AYUDA", "no", "no", "nada", "2 mejor",
             "3 dias, dormi mal, 25", "nada"], R, ["R01"], lang="es"),
    patient("luis-lumbago",
            ["me duele la espalda baja, lumbago", "no", "no", "nada", "3 mejor",
             "hace 4 dias, cargando, 45", "nada"], R, ["R02"], lang="es"),
    # ---- opt out before any outcome
    patient("beth-stop", ["hey my back hurts", "STOP", "hello?", "my back still hurts tho"], None),
    patient("maria-baja", ["me duele la espalda", "BAJA", "hola?"], None, lang="es"),
]
BY_ID = {p.id: p for p in PATIENTS}
WITH_OUTCOME = [p for p in PATIENTS if p.tier is not None]


@dataclass(frozen=True)
class Turn:
    text: str
    t: Transition


@cache
def converse(p: Patient) -> tuple[Turn, ...]:
    """The whole conversation, carrying state, language and opt-out between turns."""
    state, lang, opted_out = None, None, False
    turns = []
    for text in p.texts:
        person = Person(language=lang, country=p.country, opted_out=opted_out)
        t = advance(state, text, person=person, content=CONTENT)
        turns.append(Turn(text, t))
        state, lang = t.state, t.language
        if t.action == "opt_out":
            opted_out = True
    return tuple(turns)


def outcome_turn(p: Patient) -> int:
    turns = converse(p)
    found = [i for i, turn in enumerate(turns) if turn.t.outcome is not None]
    assert found, f"{p.id} never got advice; last replies: {turns[-1].t.replies}"
    return found[0]


def texts_to_outcome(p: Patient) -> int:
    return converse(p)[outcome_turn(p)].t.state.texts_in


def advice_words(p: Patient) -> str:
    """What the outcome text must say for this patient to know what to do."""
    if p.tier == E:
        if "E12" in p.rules:
            return "988"
        return "999" if p.country == "GB" else "911"
    if "R02" in p.rules:
        return {"en": "lower back", "es": "lumbar"}[p.lang]
    return {
        (U, "en"): "today", (U, "es"): "hoy",
        (S, "en"): "1-2 weeks", (S, "es"): "1-2 semanas",
        (R, "en"): "6 weeks", (R, "es"): "6 semanas",
    }[(p.tier, p.lang)]


def ids(patients: list[Patient]) -> list[str]:
    return [p.id for p in patients]


# ---------------------------------------------------------------- every patient


@pytest.mark.parametrize("p", WITH_OUTCOME, ids=ids(WITH_OUTCOME))
def test_it_reaches_the_expected_tier(p: Patient) -> None:
    outcome = converse(p)[outcome_turn(p)].t.outcome
    assert outcome is not None and outcome.tier == p.tier
    assert set(p.rules) <= set(outcome.rule_ids)
    assert converse(p)[-1].t.state.tier == p.tier


@pytest.mark.parametrize("p", WITH_OUTCOME, ids=ids(WITH_OUTCOME))
def test_it_tells_the_patient_what_to_do(p: Patient) -> None:
    replies = " ".join(converse(p)[outcome_turn(p)].t.replies)
    assert advice_words(p) in replies


EMERGENCIES = [p for p in WITH_OUTCOME if p.tier == E]


@pytest.mark.parametrize("p", EMERGENCIES, ids=ids(EMERGENCIES))
def test_it_sends_the_emergency_advice_first_and_alone(p: Patient) -> None:
    turn = converse(p)[outcome_turn(p)]
    assert turn.t.emergency
    assert len(turn.t.replies) == 1
    assert advice_words(p) in turn.t.replies[0]


@pytest.mark.parametrize("p", PATIENTS, ids=ids(PATIENTS))
def test_it_replies_in_the_patients_language(p: Patient) -> None:
    for turn in converse(p):
        assert turn.t.language == p.lang, turn.text
        for reply in turn.t.replies:
            assert reply in RENDERED[p.lang], f"{turn.text!r} got {reply!r}"


@pytest.mark.parametrize("p", PATIENTS, ids=ids(PATIENTS))
def test_it_never_lowers_the_tier_within_an_episode(p: Patient) -> None:
    highest = 0
    for turn in converse(p):
        if turn.t.action == "restart":
            highest = 0  # a new episode
        assert turn.t.state.tier >= highest, turn.text
        highest = turn.t.state.tier
        if turn.t.outcome is not None:
            assert turn.t.outcome.tier >= highest


QUESTION_TEXTS = {
    msg(k, lang) for k in defaults.MESSAGES if k.startswith("q.") for lang in ("en", "es")
}


@pytest.mark.parametrize("p", WITH_OUTCOME, ids=ids(WITH_OUTCOME))
def test_it_asks_nothing_with_or_after_the_outcome(p: Patient) -> None:
    for turn in converse(p)[outcome_turn(p):]:
        assert not set(turn.t.replies) & QUESTION_TEXTS, turn.text


def test_it_reaches_an_outcome_in_a_median_of_seven_texts_or_fewer() -> None:
    counts = {p.id: texts_to_outcome(p) for p in WITH_OUTCOME}
    median = statistics.median(counts.values())
    print("\ntexts to outcome:", counts, "\nmedian:", median)
    assert median <= 7


# ---------------------------------------------------------------- particular moments


FIRST_TEXT_EMERGENCIES = [p for p in EMERGENCIES if len(p.texts) == 1]


@pytest.mark.parametrize("p", FIRST_TEXT_EMERGENCIES, ids=ids(FIRST_TEXT_EMERGENCIES))
def test_it_answers_an_emergency_in_the_first_text_at_once_without_a_question(p: Patient) -> None:
    (turn,) = converse(p)
    assert turn.t.outcome is not None and turn.t.outcome.tier == E
    assert msg("sys.welcome", p.lang) not in turn.t.replies
    assert not set(turn.t.replies) & QUESTION_TEXTS


def test_it_sends_the_uk_patient_999() -> None:
    (reply,) = converse(BY_ID["ian-gb-legs-numb-second-text"])[1].t.replies
    assert reply == msg("outcome.emergency_gb")
    assert "911" not in reply


# An emergency found through a question (YES to the screen, or to the band-pain question after
# cancer) must still reach a UK (+44, country GB) patient as "Call 999 ... A&E", not the US text.
@pytest.mark.parametrize(
    "texts",
    [
        pytest.param(["upper back agony since this morning", "yes"], id="yes-to-the-screen"),
        pytest.param(["ache between my shoulder blades", "no", "no", "a", "yes"],
                     id="yes-to-band-pain-after-cancer"),
    ],
)
def test_it_sends_999_to_a_uk_patient_whatever_question_revealed_it(texts: list[str]) -> None:
    turns = converse(patient("uk", texts, E, country="GB"))
    assert turns[-1].t.emergency
    assert turns[-1].t.replies == [msg("outcome.emergency_gb")]


@pytest.mark.parametrize(
    ("pid", "later"),
    [
        ("amy-slept-funny", "now my legs r going numb"),
        ("priya-fever-letter-b", "i just wet myself and cant stop it"),
        ("elena-cansancio", "ahora tengo las piernas dormidas"),
    ],
)
def test_it_still_screens_every_text_after_the_advice(pid: str, later: str) -> None:
    p = BY_ID[pid]
    follow_up = patient(f"{pid}-later", [*p.texts, later], E, lang=p.lang)
    last = converse(follow_up)[-1].t
    assert last.emergency
    assert last.replies == [msg("outcome.emergency", p.lang)]


@pytest.mark.parametrize("pid", ["beth-stop", "maria-baja"])
def test_it_unsubscribes_with_one_reply_and_then_stays_silent(pid: str) -> None:
    p = BY_ID[pid]
    turns = converse(p)
    stop = next(i for i, turn in enumerate(turns) if turn.t.action == "opt_out")
    assert turns[stop].t.replies == [msg("sys.optout", p.lang)]
    assert len(turns) > stop + 1
    for turn in turns[stop + 1 :]:
        assert turn.t.replies == [], turn.text


def test_it_still_answers_an_emergency_after_an_opt_out() -> None:
    t = advance(None, "i cant feel my legs", person=Person(opted_out=True, language="en"))
    assert t.replies == [msg("outcome.emergency")]
    assert "emergency_while_opted_out" in t.flags


def test_it_puts_the_unsubscribe_and_the_911_advice_in_one_reply() -> None:
    (turn,) = converse(BY_ID["sam-stop-legs-numb"])
    assert turn.t.action == "opt_out"
    (reply,) = turn.t.replies
    assert "unsubscribed" in reply and "911" in reply


@pytest.mark.parametrize(
    ("pid", "help_at", "pending"),
    [("mo-help-midflow", 2, "q.emergency_more"), ("diego-ayuda", 1, "q.emergency_screen")],
)
def test_it_answers_help_and_repeats_the_pending_question(pid: str, help_at: int,
                                                          pending: str) -> None:
    p = BY_ID[pid]
    turns = converse(p)
    assert turns[help_at - 1].t.replies[-1] == msg(pending, p.lang)
    assert turns[help_at].t.replies == [msg("sys.help", p.lang), msg(pending, p.lang)]
    assert turns[help_at].t.state.pending == turns[help_at - 1].t.state.pending


def test_it_starts_over_with_the_welcome_on_restart() -> None:
    turns = converse(BY_ID["zoe-restart"])
    restart = turns[2]
    assert restart.t.action == "restart"
    assert restart.t.replies == [msg("sys.welcome"), msg("q.emergency_screen")]
    assert restart.t.state.texts_in == 1


@pytest.mark.parametrize("pid", ["lee-unclear-twice", "miguel-no-entiende"])
def test_it_reasks_an_unclear_emergency_answer_once_then_gives_the_safety_net(pid: str) -> None:
    p = BY_ID[pid]
    first, reask, give_up = converse(p)[:3]
    assert first.t.replies[-1] == msg("q.emergency_screen", p.lang)
    assert reask.t.replies == [msg("q.emergency_screen.reask", p.lang)]
    assert msg("q.emergency_screen.reask", p.lang) != msg("q.emergency_screen", p.lang)
    assert give_up.t.replies[0] == msg("sys.safety_net", p.lang)
    assert "911" in give_up.t.replies[0]
    assert give_up.t.state.tier >= U
    assert "F03" in give_up.t.state.reasons


@pytest.mark.parametrize("pid", ["pat-lower-back-only", "luis-lumbago"])
def test_it_screens_a_lower_back_patient_for_emergencies_first(pid: str) -> None:
    p = BY_ID[pid]
    seen = [reply for turn in converse(p) for reply in turn.t.replies]
    out_of_scope = seen.index(msg("outcome.lower_back", p.lang))
    assert seen.index(msg("q.emergency_screen", p.lang)) < out_of_scope
    assert seen.index(msg("q.emergency_more", p.lang)) < out_of_scope


# "I don't know" to the emergency screen must be asked again (F03): never taken as NO, which
# would skip the safety net, nor as YES, which would send the 911 text.
@pytest.mark.parametrize(
    ("texts", "lang"),
    [
        pytest.param(["my back hurts", "no idea"], "en", id="no-idea"),
        pytest.param(["upper back pain", "I do not know"], "en", id="i-do-not-know"),
        pytest.param(["upper back pain", "not really sure"], "en", id="not-really-sure"),
        pytest.param(["upper back pain", "im not too sure"], "en", id="im-not-too-sure"),
        pytest.param(["me duele la espalda", "no lo sé"], "es", id="no-lo-se"),
        pytest.param(["me duele la espalda", "ni idea"], "es", id="ni-idea"),
    ],
)
def test_it_reasks_when_the_patient_does_not_know(texts: list[str], lang: str) -> None:
    turns = converse(patient("unsure", texts, U, lang=lang))
    assert turns[1].t.replies == [msg("q.emergency_screen.reask", lang)]


# BUG: "no, only sometimes" / "not really but sometimes" (partly yes, for a warning sign) are read
# as NO, so the screen is passed with no re-ask and no safety net.
@pytest.mark.parametrize("answer", ["no, only sometimes", "not really but sometimes"])
def test_it_does_not_pass_the_screen_on_a_partial_yes(answer: str) -> None:
    turns = converse(patient("partly", ["pain between my shoulder blades", answer], E))
    assert turns[1].t.replies in (
        [msg("outcome.emergency")],
        [msg("q.emergency_screen.reask")],
    )


# BUG: "menos" (less) is typo-corrected to "manos" (hands), so a Spanish patient who says the
# tingling in their back is less ("ya tengo menos hormigueo en la espalda") is read as sudden
# arm weakness (E04) and told to call 911.
def test_it_does_not_send_911_when_the_tingling_is_less() -> None:
    texts = ["me duele la espalda alta", "no", "no", "nada",
             "3 mejor, ya tengo menos hormigueo en la espalda"]
    turns = converse(patient("menos", texts, R, lang="es"))
    assert not turns[-1].t.emergency
    assert msg("outcome.emergency", "es") not in turns[-1].t.replies


# A thumbs-up or thumbs-down is an answer, not an unreadable picture: 👍 to "numb legs, can't
# pee, chest pain...?" must get the 911 text.
def test_it_takes_a_thumbs_up_to_the_emergency_screen_as_yes() -> None:
    turns = converse(patient("thumbs-up", ["upper back really hurts", "👍"], E))
    assert turns[1].t.replies == [msg("outcome.emergency")]


def test_it_takes_a_thumbs_down_to_the_emergency_screen_as_no() -> None:
    turns = converse(patient("thumbs-down", ["upper back really hurts", "👎"], R))
    assert turns[1].t.replies == [msg("q.emergency_more")]


# A patient who cannot put a number on the pain, or say how long they have had it, still gets
# advice: after one re-ask the machine assumes the worst and moves on, never asking forever.
@pytest.mark.parametrize(
    "texts",
    [
        pytest.param(["upper back pain", "no", "no", "none", "dunno", "dunno",
                      "no idea honestly", "i really cant say", "dunno"], id="no-pain-score"),
        pytest.param(["upper back pain", "no", "no", "none", "3 better", "41", "dunno",
                      "not sure", "cant remember", "a while"], id="no-duration"),
    ],
)
def test_it_gives_advice_to_a_patient_who_cannot_answer_a_number(texts: list[str]) -> None:
    turns = converse(patient("vague", texts, U))
    assert any(turn.t.outcome is not None for turn in turns), turns[-1].t.replies


# Two unreadable answers to the A-I warning-sign list (not an emergency question) give at least
# URGENT (F03) - but not the 911 text, and not E00 ("said YES to the emergency screen") for a
# patient who said NO to both emergency questions.
def test_it_does_not_send_911_for_an_unreadable_answer_to_the_warning_signs() -> None:
    texts = ["uper bak pain after movin house", "no", "no", "wot", "5 beter"]
    turns = converse(patient("typos", texts, U))
    assert turns[3].t.replies == [msg("q.urgent_signs.reask")]
    last = turns[-1].t
    assert not last.emergency
    assert msg("outcome.emergency") not in last.replies
    assert "E00" not in last.state.reasons
    assert last.outcome is not None and last.outcome.tier == U
    assert "F03" in last.outcome.rule_ids
