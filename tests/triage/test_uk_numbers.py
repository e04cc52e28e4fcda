"""A +44 patient is never told to call 911 alone: every reply names 999 (the "_gb" variants)."""

from __future__ import annotations

import pytest

from triage.conversation import Person, advance

PATHS = {
    "routine": [
        "upper back ache",
        "no",
        "no",
        "none",
        "3 better",
        "1 week, lifting, 30",
        "none",
        "ok",
    ],
    "unclear-screen": ["upper back pain", "idk", "not sure tbh", "no", "none", "5 same"],
    "soon": ["upper back pain", "no", "no", "none", "4 same", "7 weeks, lifting, 30", "none"],
    "emergency-then-more": ["upper back pain", "yes", "ok im going"],
    "spanish": ["me duele la espalda alta", "no sé", "no sé"],
}


def replies(texts: list[str], country: str) -> list[str]:
    state, lang, seen = None, None, []
    for text in texts:
        t = advance(state, text, person=Person(language=lang, country=country))
        state, lang = t.state, t.language
        seen += t.replies
    return seen


@pytest.mark.parametrize("country", ["GB", "JE", "GG", "IM"])
@pytest.mark.parametrize("path", list(PATHS))
def test_it_never_sends_a_uk_patient_to_911_alone(path: str, country: str) -> None:
    for reply in replies(PATHS[path], country):
        assert "911" not in reply or "999" in reply, reply


@pytest.mark.parametrize("path", list(PATHS))
def test_it_keeps_911_for_a_us_patient(path: str) -> None:
    seen = replies(PATHS[path], "US")
    assert any("911" in r for r in seen)
    assert not any("999" in r and "911" not in r for r in seen)
