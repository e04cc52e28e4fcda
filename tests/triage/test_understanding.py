"""Reading what patients text (triage/understanding.py) and what an SMS costs (triage/segments.py).

Answers as people really send them: yes/no in two languages and emoji, pain scores, durations,
ages, trend, letter lists, negation, and the language of the text. An answer the reader cannot
be sure of must come back as unsure or None (so the question is asked again), never as a NO.
"""

from __future__ import annotations

import random
import string

import pytest

from triage import understanding
from triage.rules import emergency_rules
from triage.segments import segment_info
from triage.understanding import (
    BETTER,
    NO,
    SAME,
    UNSURE,
    WORSE,
    YES,
    analyze,
    correct_typo,
    parse_age,
    parse_options,
    parse_pain_score,
    parse_trend,
    parse_weeks,
    parse_yes_no,
)


def case(text: str, expected: object, case_id: str | None = None):
    return pytest.param(text, expected, id=case_id or text)


# ---------------------------------------------------------------- yes / no

YES_NO = [
    case("y", YES),
    case("yeah", YES),
    case("yep", YES),
    case("yes!", YES),
    case("YES", YES),
    case("Yup.", YES),
    case("sí", YES, "si-accented"),
    case("si", YES),
    case("Sí, un poco", YES, "si-un-poco"),
    case("👍", YES, "thumbs-up"),
    case("yes, both legs", YES),
    case("a little", YES, "a-little-is-yes"),
    case("sometimes", YES),
    case("kinda", YES),
    case("nope", NO),
    case("nah", NO),
    case("no", NO),
    case("NO!!", NO),
    case("N", NO),
    case("no numbness no weakness", NO),
    case("nothing like that", NO),
    case("not really", NO),
    case("para nada", NO),
    case("nel", NO),
    case("👎", NO, "thumbs-down"),
    case("not sure", UNSURE),
    case("idk", UNSURE),
    case("dunno", UNSURE),
    case("maybe", UNSURE),
    case("I am not sure", UNSURE),
    case("i dont know", UNSURE),
    case("no sé", UNSURE, "no-se-accented"),
    case("tal vez", UNSURE),
    case("asdfgh qwerty", None, "gibberish"),
    case("ok", None),
    case("🙂", None, "smiley"),
    case("", None, "empty"),
]


@pytest.mark.parametrize(("text", "expected"), YES_NO)
def test_it_reads_yes_no_and_unsure(text: str, expected: str | None) -> None:
    assert parse_yes_no(text) == expected


# Not knowing must never read as NO: "I don't know" to "do you have numb legs or trouble
# peeing?" must be asked again and then get the safety net (rules.md F03). And an emphatic no
# must not be told to call 911.
DONT_KNOW = [
    case("no idea", UNSURE),
    case("no clue", UNSURE),
    case("I do not know", UNSURE),
    case("i have no idea", UNSURE),
    case("no lo sé", UNSURE, "no-lo-se"),
    case("ni idea", UNSURE),
    case("not really sure", UNSURE),
    case("not at all sure", UNSURE),
    case("im not too sure", UNSURE),
    case("absolutely not", NO),
    case("definitely not", NO),
    case("of course not", NO),
]


@pytest.mark.parametrize(("text", "expected"), DONT_KNOW)
def test_it_does_not_mistake_dont_know_or_emphatic_no(text: str, expected: str) -> None:
    answer = parse_yes_no(text)
    if expected == UNSURE:
        assert answer not in (YES, NO)  # unsure or unread: either way it is asked again
    else:
        assert answer == expected


# For a warning sign, partly is yes: "sometimes" must never be read as NO.
# BUG: "no, only sometimes" and "not really but sometimes" read as NO (the opening no wins);
# "más o menos" reads as None because "menos" is typo-corrected to "manos".
PARTLY = [
    case("no, only sometimes", YES),
    case("not really but sometimes", YES),
    case("más o menos", YES, "mas-o-menos"),
    case("un poco", YES),
    case("a veces", YES),
]


@pytest.mark.parametrize(("text", "expected"), PARTLY)
def test_it_reads_partly_as_yes(text: str, expected: str) -> None:
    assert parse_yes_no(text) == expected


def test_it_lets_staff_answer_words_decide() -> None:
    assert parse_yes_no("affirmo", {"affirmo": "yes"}) == YES
    assert parse_yes_no("no idea", {"no idea": "unsure"}) == UNSURE


# ---------------------------------------------------------------- numbers

PAIN_SCORES = [
    case("7/10", 7),
    case("7 out of 10", 7),
    case("about a 7", 7),
    case("its like a 6", 6),
    case("siete", 7),
    case("seven", 7),
    case("five out of ten", 5),
    case("7 de 10", 7),
    case("7-8", 8, "range-takes-the-higher"),
    case("7 to 8", 8, "range-in-words"),
    case("around 5 or 6", 6),
    case("٧", 7, "arabic-indic-seven"),
    case("۸", 8, "persian-eight"),
    case("10/10 worse", 10),
    case("0", 0),
    case("2 weeks 7/10", 7, "duration-is-not-a-score"),
    case("15", None, "out-of-range"),
    case("100", None),
    case("3 weeks", None, "weeks-not-a-score"),
    case("I am 45", None, "age-not-a-score"),
    case("idk", None),
]


@pytest.mark.parametrize(("text", "expected"), PAIN_SCORES)
def test_it_reads_a_pain_score(text: str, expected: int | None) -> None:
    assert parse_pain_score(text) == expected


DURATIONS = [
    case("about 3 weeks", 3.0),
    case("10 days", 10 / 7),
    case("2 months", 8.69),
    case("3 months ago", 13.04),
    case("a couple of weeks", 2.0),
    case("a week", 1.0),
    case("2-3 weeks", 3.0, "range-takes-the-longer"),
    case("1.5 weeks", 1.5),
    case("3wks", 3.0),
    case("3 wks", 3.0),
    case("3w", 3.0),
    case("24 hours", 1 / 7),
    case("since last week", 1.0),
    case("for ages", 8.0, "ages-is-long"),
    case("tres semanas", 3.0),
    case("hace dos semanas", 2.0),
    case("un par de semanas", 2.0),
    case("dos meses", 8.69),
    case("15 dias", 15 / 7),
    case("2 weeks, lifting, 35", 2.0, "age-after-duration-ignored"),
]


@pytest.mark.parametrize(("text", "expected"), DURATIONS)
def test_it_reads_a_duration_in_weeks(text: str, expected: float) -> None:
    assert parse_weeks(text) == pytest.approx(expected, abs=0.01)


@pytest.mark.parametrize("text", ["since yesterday", "this morning", "hoy", "ayer"])
def test_it_reads_since_yesterday_as_a_day_or_so(text: str) -> None:
    weeks = parse_weeks(text)
    assert weeks is not None and 0 < weeks <= 2 / 7


@pytest.mark.parametrize("text", ["dunno", "a while", "since monday", ""])
def test_it_leaves_an_unclear_duration_unknown(text: str) -> None:
    assert parse_weeks(text) is None


AGES = [
    case("45", 45),
    case("im 45", 45),
    case("I'm 52", 52, "im-52-apostrophe"),
    case("52 years old", 52),
    case("72 yo", 72),
    case("age 60", 60),
    case("edad: 41", 41),
    case("tengo 52 años", 52),
    case("2 weeks, lifting, 35", 35, "after-a-duration"),
    case("3 months no reason 60", 60),
    case("45 no", 45, "age-then-smoking"),
    case("3 weeks", None, "a-duration-is-not-an-age"),
    case("i am 130", None, "impossible-age"),
]


@pytest.mark.parametrize(("text", "expected"), AGES)
def test_it_reads_an_age(text: str, expected: int | None) -> None:
    assert parse_age(text) == expected


# ---------------------------------------------------------------- trend

TRENDS = [
    case("better", BETTER),
    case("a bit better", BETTER),
    case("improving", BETTER),
    case("mejorando", BETTER),
    case("mejor", BETTER),
    case("same", SAME),
    case("about the same", SAME),
    case("no change", SAME),
    case("not better", SAME),
    case("hasnt improved", SAME),
    case("igual", SAME),
    case("sigue igual", SAME),
    case("no mejora", SAME),
    case("worse", WORSE),
    case("getting worse", WORSE),
    case("worse!!", WORSE),
    case("peor", WORSE),
    case("empeorando", WORSE),
    case("cada vez peor", WORSE),
    case("better during the day but worse at night", WORSE, "worse-wins-when-mixed"),
    case("meh", None),
]


@pytest.mark.parametrize(("text", "expected"), TRENDS)
def test_it_reads_the_trend(text: str, expected: str | None) -> None:
    assert parse_trend(text) == expected


# "Not improving" in other words must not read as BETTER: that would switch off U09, S01, S07
# and S09 for a patient whose pain is not getting better.
@pytest.mark.parametrize(
    "text", ["isnt getting any better", "not really improving", "not any better", "no mejora nada"]
)
def test_it_does_not_read_not_improving_as_better(text: str) -> None:
    assert parse_trend(text) != BETTER


# ---------------------------------------------------------------- letter lists

LETTERS = "ABCDEFGHI"
OPTIONS = [
    case("A C", {"A", "C"}),
    case("a,c", {"A", "C"}),
    case("ac", {"A", "C"}, "letters-run-together"),
    case("A and C", {"A", "C"}),
    case("b, d and i", {"B", "D", "I"}),
    case("a) c)", {"A", "C"}),
    case("1 3", {"A", "C"}, "numbers-for-letters"),
    case("B.", {"B"}),
    case("i", {"I"}),
    case("none", set()),
    case("NONE", set()),
    case("none of them", set()),
    case("no", set()),
    case("nada", set()),
    case("ninguna", set()),
    case("a fever", None, "a-word-not-a-letter"),
    case("bad", None, "a-word-made-of-letters"),
    case("fever", None),
    case("j", None, "not-on-the-list"),
    case("all of them", None),
]


@pytest.mark.parametrize(("text", "expected"), OPTIONS)
def test_it_reads_a_letter_list(text: str, expected: set[str] | None) -> None:
    result = parse_options(text, LETTERS)
    assert result == (None if expected is None else frozenset(expected))


# ---------------------------------------------------------------- language

LANGUAGES = [
    case("my back hurts", "en"),
    case("upper back pain since yesterday", "en"),
    case("hi", "en"),
    case("thanks", "en"),
    case("yes", "en"),
    case("me duele la espalda", "es"),
    case("Tengo dolor entre los omoplatos", "es"),
    case("dolor de espalda alta desde hace 2 semanas", "es"),
    case("hola", "es"),
    case("gracias", "es"),
    case("si", "es"),
    case("¿qué?", "es", "accents-and-inverted-question-mark"),
    case("no", None, "no-is-both"),
    case("7", None, "a-number-is-neither"),
]


@pytest.mark.parametrize(("text", "expected"), LANGUAGES)
def test_it_detects_the_language(text: str, expected: str | None) -> None:
    assert analyze(text).language == expected


# ---------------------------------------------------------------- negation

# (text, symptom that must NOT be read as present). Beyond tests/triage/corpus.
DENIED = [
    case("legs arent numb or weak", "leg_numbness_tingling"),
    case("legs arent numb or weak", "leg_weakness", "legs-arent-weak"),
    case("no tingling in my feet", "leg_numbness_tingling"),
    case("without any numbness in my legs", "leg_numbness_tingling"),
    case("neither numb nor weak", "leg_weakness"),
    case("my legs are not numb", "leg_numbness_tingling"),
    case("no numb legs", "leg_numbness_tingling"),
    case("legs not numb. pee ok.", "leg_numbness_tingling"),
    case("no loss of bladder control", "bladder_bowel_control_loss"),
    case("no i havent lost control of my bladder", "bladder_bowel_control_loss"),
    case("no bleeding when i cough", "coughing_blood_large"),
    case("i dont have a fever", "fever"),
    case("nada de fiebre", "fever"),
    case("no tengo las piernas dormidas", "leg_numbness_tingling"),
    case("sin hormigueo en las piernas", "leg_numbness_tingling"),
    case("ni debilidad ni hormigueo", "leg_weakness"),
    case("no me duele el pecho", "heart_attack_signs"),
    case("no tengo fiebre pero tengo las piernas dormidas", "fever", "es-fever-denied-legs-not"),
]


@pytest.mark.parametrize(("text", "symptom"), DENIED)
def test_it_respects_a_denial(text: str, symptom: str) -> None:
    assert symptom not in analyze(text).present


def test_it_reads_one_very_long_word_without_trying_to_correct_it(monkeypatch) -> None:
    # Found by tests/test_fuzz.py: typo correction built every two-letter deletion of a long
    # token, so a 1,600-letter word (an SMS can carry one) took 10 s and 2 GB.
    word = "".join(random.Random(1).choices(string.ascii_lowercase, k=4000))
    lengths: list[int] = []
    real_deletes = understanding._deletes

    def deletes(token: str, limit: int):
        lengths.append(len(token))
        return real_deletes(token, limit)

    monkeypatch.setattr(understanding, "_deletes", deletes)

    analysis = analyze(word)

    assert analysis.tokens == (word,)
    assert 4000 not in lengths  # never expanded: no symptom word is that long


def test_it_still_corrects_typos_in_the_longest_words() -> None:
    assert correct_typo("tinglinng") == "tingling"
    assert correct_typo("corticoessteroidess") == "corticoesteroides"  # 17 letters + 2 edits


def test_it_records_what_was_denied() -> None:
    assert "fever" in analyze("i dont have a fever").negated


# (text, symptom that must be read as present) - a denial must not swallow what follows it.
KEPT = [
    case("no numbness but my legs feel weak", "leg_weakness"),
    case("no pain in my legs but they are numb", "leg_numbness_tingling"),
    case("no chest pain, but i cant breathe", "sudden_severe_breathlessness"),
    case("no tengo fiebre pero tengo las piernas dormidas", "leg_numbness_tingling",
         "es-legs-after-denied-fever"),
    case("no siento las piernas", "leg_numbness_tingling", "es-no-siento-is-numbness"),
    case("cant feel my legs", "leg_numbness_tingling"),
    case("no, my legs are numb", "leg_numbness_tingling", "no-answer-then-symptom"),
    case("Nope. legs went numb this morning", "leg_numbness_tingling"),
    case("my legs are fine but i peed myself", "bladder_bowel_control_loss"),
    case("no fever, but honestly i want to die", "mental_health_crisis"),
    case("im not going to kill myself but i feel so low", "mental_health_crisis",
         "crisis-words-never-negated"),
]


@pytest.mark.parametrize(("text", "symptom"), KEPT)
def test_it_keeps_a_symptom_after_a_denial(text: str, symptom: str) -> None:
    assert symptom in analyze(text).present


# "menos" (less) is one of the commonest Spanish words; it must not be "corrected" to "manos"
# (hands), which turns "less tingling" into sudden arm weakness (E04) and a 911 text.
@pytest.mark.parametrize(
    "text", ["ya tengo menos hormigueo", "siento menos hormigueo en la espalda que ayer"]
)
def test_it_does_not_read_less_tingling_as_numb_hands(text: str) -> None:
    assert "sudden_arm_or_leg_weakness" not in analyze(text).present


@pytest.mark.parametrize(
    ("text", "rules"),
    [
        case("no numbness but my legs feel weak", ["E01"]),
        case("no tengo fiebre pero tengo las piernas dormidas", ["E02"]),
        case("no chest pain, but i cant breathe", ["E06"]),
        case("no numbness, no tingling, no bladder problems", []),
        case("ni debilidad ni hormigueo", []),
    ],
)
def test_it_turns_what_it_read_into_emergency_rules(text: str, rules: list[str]) -> None:
    assert emergency_rules(analyze(text).present) == rules


# ---------------------------------------------------------------- SMS segments

SEGMENTS = [
    pytest.param("a" * 160, "GSM-7", 160, 1, id="160-gsm-chars-one-segment"),
    pytest.param("a" * 161, "GSM-7", 161, 2, id="161-gsm-chars-two-segments"),
    pytest.param("a" * 306, "GSM-7", 306, 2, id="306-gsm-chars-two-segments"),
    pytest.param("a" * 307, "GSM-7", 307, 3, id="307-gsm-chars-three-segments"),
    pytest.param("€" * 80, "GSM-7", 160, 1, id="80-euro-signs-fill-one-segment"),
    pytest.param("€" * 81, "GSM-7", 162, 2, id="81-euro-signs-need-two"),
    pytest.param("a" * 159 + "€", "GSM-7", 161, 2, id="euro-counts-double"),
    pytest.param("café años ¿qué?", "GSM-7", 15, 1, id="e-acute-n-tilde-and-inverted-mark-are-gsm"),
    pytest.param("más años", "UCS-2", 8, 1, id="one-a-acute-forces-ucs2"),
    pytest.param("é" * 160, "GSM-7", 160, 1, id="e-acute-is-gsm"),
    pytest.param("á" + "a" * 69, "UCS-2", 70, 1, id="70-ucs2-chars-one-segment"),
    pytest.param("á" + "a" * 70, "UCS-2", 71, 2, id="71-ucs2-chars-two-segments"),
    pytest.param("", "GSM-7", 0, 1, id="empty"),
]


@pytest.mark.parametrize(("text", "encoding", "length", "segments"), SEGMENTS)
def test_it_counts_segments(text: str, encoding: str, length: int, segments: int) -> None:
    info = segment_info(text)
    assert (info.encoding, info.length, info.segments) == (encoding, length, segments)


def test_it_names_the_character_that_forced_ucs2() -> None:
    info = segment_info("Llame ahora, está bien")
    assert info.encoding == "UCS-2"
    assert info.non_gsm == ("á",)


def test_it_names_each_offending_character_once() -> None:
    assert segment_info("día día ’ok’").non_gsm == ("í", "’")
