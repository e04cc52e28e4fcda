"""The default content (triage/defaults.py): every text is one GSM-7 SMS, in English and Spanish.

One segment because a second costs money and can arrive out of order; GSM-7 because one accented
a/i/o/u switches the whole text to UCS-2 and 70 characters (rules.md F07). Emergency texts name
the right number, HELP meets the CTIA requirements (F05), and every rule has a cited source.
"""

from __future__ import annotations

import pytest

from triage import defaults
from triage.rules import ALL_RULE_IDS
from triage.segments import segment_info

SERVICE, CONTACT = "BackCheck", "help@backcheck.example"


def render(key: str, lang: str) -> str:
    return defaults.MESSAGES[key][lang].replace("{service}", SERVICE).replace("{contact}", CONTACT)


KEYS = sorted(defaults.MESSAGES)
EVERY_TEXT = [pytest.param(k, lang, id=f"{k}-{lang}") for k in KEYS for lang in ("en", "es")]


@pytest.mark.parametrize("key", KEYS)
def test_it_has_every_message_in_english_and_spanish(key: str) -> None:
    texts = defaults.MESSAGES[key]
    assert set(defaults.LANGUAGES) == {"en", "es"}
    assert texts.get("en", "").strip() and texts.get("es", "").strip()


@pytest.mark.parametrize(("key", "lang"), EVERY_TEXT)
def test_it_fits_every_message_in_one_gsm7_segment(key: str, lang: str) -> None:
    info = segment_info(render(key, lang))
    assert info.encoding == "GSM-7", f"{key}/{lang} forced UCS-2 by {info.non_gsm}"
    assert info.segments == 1, f"{key}/{lang} is {info}"


@pytest.mark.parametrize(("key", "lang"), EVERY_TEXT)
def test_it_leaves_no_placeholder_unfilled(key: str, lang: str) -> None:
    assert "{" not in render(key, lang)


EMERGENCY_NUMBERS = [
    pytest.param("outcome.emergency", "en", "911", id="emergency-en-911"),
    pytest.param("outcome.emergency", "es", "911", id="emergency-es-911"),
    pytest.param("outcome.emergency_gb", "en", "999", id="emergency-gb-en-999"),
    pytest.param("outcome.emergency_gb", "es", "999", id="emergency-gb-es-999"),
    pytest.param("sys.optout_emergency", "en", "911", id="stop-with-emergency-en"),
    pytest.param("sys.optout_emergency", "es", "911", id="stop-with-emergency-es"),
    pytest.param("sys.after_emergency", "en", "911", id="after-emergency-en"),
    pytest.param("sys.after_emergency", "es", "911", id="after-emergency-es"),
    pytest.param("outcome.crisis", "en", "988", id="crisis-en-988"),
    pytest.param("outcome.crisis", "es", "988", id="crisis-es-988"),
    pytest.param("sys.optout_crisis", "en", "988", id="stop-with-crisis-en"),
    pytest.param("sys.safety_net", "en", "911", id="safety-net-en"),
    pytest.param("sys.safety_net", "es", "911", id="safety-net-es"),
]


@pytest.mark.parametrize(("key", "lang", "number"), EMERGENCY_NUMBERS)
def test_it_names_the_emergency_number(key: str, lang: str, number: str) -> None:
    assert number in render(key, lang)


@pytest.mark.parametrize("lang", ["en", "es"])
def test_it_never_sends_a_uk_patient_the_us_number_in_the_emergency_text(lang: str) -> None:
    assert "911" not in render("outcome.emergency_gb", lang)


def test_it_tells_a_uk_patient_to_go_to_a_and_e() -> None:
    assert "A&E" in render("outcome.emergency_gb", "en")


@pytest.mark.parametrize("key", ["outcome.crisis_gb", "sys.optout_crisis_gb"])
@pytest.mark.parametrize("lang", ["en", "es"])
def test_it_gives_a_uk_number_the_uk_crisis_line(key: str, lang: str) -> None:
    assert "116 123" in render(key, lang) and "999" in render(key, lang)


HELP_NOT_FOR_EMERGENCIES = {"en": "not for emergencies", "es": "no es para emergencias"}


@pytest.mark.parametrize("lang", ["en", "es"])
def test_it_meets_ctia_in_the_help_text(lang: str) -> None:
    text = render("sys.help", lang)
    assert "STOP" in text
    assert CONTACT in text
    assert SERVICE in text
    assert HELP_NOT_FOR_EMERGENCIES[lang] in text.lower()
    assert "911" in text


@pytest.mark.parametrize("lang", ["en", "es"])
def test_it_tells_the_patient_how_to_stop_in_the_first_text(lang: str) -> None:
    text = render("sys.welcome", lang)
    assert "STOP" in text and "911" in text


@pytest.mark.parametrize("key", ["sys.optout", "sys.optout_emergency", "sys.optout_crisis"])
@pytest.mark.parametrize("lang", ["en", "es"])
def test_it_confirms_the_unsubscribe(key: str, lang: str) -> None:
    assert "BackCheck" in render(key, lang)
    assert ("unsubscribed" if lang == "en" else "dado de baja") in render(key, lang)


TIER_WORDS = [
    pytest.param("outcome.urgent", "en", "today", id="urgent-en-today"),
    pytest.param("outcome.urgent", "es", "hoy", id="urgent-es-hoy"),
    pytest.param("outcome.urgent_cancer", "en", "today", id="urgent-cancer-en-today"),
    pytest.param("outcome.urgent_cancer", "es", "hoy", id="urgent-cancer-es-hoy"),
    pytest.param("outcome.soon", "en", "1-2 weeks", id="soon-en-1-2-weeks"),
    pytest.param("outcome.soon", "es", "1-2 semanas", id="soon-es-1-2-semanas"),
    pytest.param("outcome.routine_watch", "en", "6 weeks", id="routine-en-6-weeks"),
    pytest.param("outcome.routine_watch", "es", "6 semanas", id="routine-es-6-semanas"),
]


@pytest.mark.parametrize(("key", "lang", "words"), TIER_WORDS)
def test_it_says_how_soon_to_be_seen(key: str, lang: str, words: str) -> None:
    assert words in render(key, lang)


RULE_ROWS = {row["rule_id"]: row for row in defaults.RULES}
CITED = [r for r in ALL_RULE_IDS if r != "F03"]  # F03 is a flow rule, not a row of the table


@pytest.mark.parametrize("rule_id", CITED)
def test_it_cites_a_source_for_every_rule(rule_id: str) -> None:
    row = RULE_ROWS.get(rule_id)
    assert row is not None, f"{rule_id} has no row in defaults.RULES"
    assert row["source"].strip()
    assert row["tier"] in ("EMERGENCY", "URGENT", "SOON", "ROUTINE")


def test_it_lists_no_rule_the_code_does_not_know() -> None:
    assert set(RULE_ROWS) <= set(ALL_RULE_IDS)


@pytest.mark.parametrize("rule_id", CITED)
def test_it_gives_each_rule_the_tier_the_code_uses(rule_id: str) -> None:
    from triage.rules import RULE_TIERS

    assert RULE_ROWS[rule_id]["tier"] == RULE_TIERS[rule_id].name
