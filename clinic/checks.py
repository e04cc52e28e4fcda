"""Pre-publish checks: what is wrong with the content staff edit, before a patient finds out.

`content_problems()` looks at the content the service uses right now (database rows falling back
to `triage.defaults`, as `triage.selectors.content_load` reads them) and returns one `Problem`
per thing to fix: a message missing in a language or longer than one SMS, an emergency question
that no longer leads anywhere near 911, a rule whose own test texts no longer trigger it. The
emergency checks run the pure engine (`triage.conversation.advance`), so they see exactly what
a patient would. Results are cached per content version: every content save starts a new one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from urllib.parse import urlencode

from django.core.cache import cache
from django.urls import reverse

from reminders.models import CheckinStep
from triage import defaults
from triage.conversation import (
    EMERGENCY_QUESTIONS,
    OPTIONS,
    SERVES,
    TWO_PART,
    Content,
    Person,
    State,
    Transition,
    advance,
)
from triage.models import ContentMessage, LanguageChoices, Rule
from triage.rules import RULE_TIERS, Facts, Tier, can_reach, evaluate
from triage.segments import segment_info
from triage.selectors import content_load, content_version
from triage.understanding import fold

ERROR, WARNING = "error", "warning"
CACHE_SECONDS = 3600
CHECKS_REVISION = 1  # bump when the checks change, so cached results from older code are ignored
LANGUAGES: tuple[str, ...] = tuple(LanguageChoices.values)
LANGUAGE_NAMES = {c.value: c.label for c in LanguageChoices}


@dataclass(frozen=True)
class Problem:
    severity: str  # ERROR: a patient would get wrong or no advice; WARNING: worth a look
    where: str  # what to open: "Message text q.emergency_screen [es]", "Rule E02"
    url: str  # its admin page (an add form, prefilled, when the row is missing)
    message: str

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR


def content_problems() -> list[Problem]:
    """Every problem with the current content, errors first (cached per content version)."""
    key = f"clinic:checks:{CHECKS_REVISION}:{content_version()}"
    problems = cache.get(key)
    if problems is None:
        problems = content_problems_compute(content_load())
        cache.set(key, problems, CACHE_SECONDS)
    return problems


def content_problems_compute(content: Content) -> list[Problem]:
    rows = _Rows()
    problems = [
        *messages_missing(content, rows),
        *messages_out_of_date(content, rows),
        *messages_too_long(content, rows),
        *emergency_questions_broken(content, rows),
        *rules_test_phrases_failing(content),
        *checkin_steps_without_text(content),
    ]
    return sorted(problems, key=lambda p: (not p.is_error, p.where))


# ---------------------------------------------------------------- messages


class _Rows:
    """Admin links to message rows, by key and language (the add form when there is none)."""

    def __init__(self) -> None:
        self.ids = {
            (key, lang): pk
            for pk, key, lang in ContentMessage.objects.values_list("pk", "key", "language")
        }

    def url(self, key: str, lang: str) -> str:
        pk = self.ids.get((key, lang))
        if pk is not None:
            return reverse("admin:triage_contentmessage_change", args=[pk])
        query = urlencode({"key": key, "language": lang})
        return reverse("admin:triage_contentmessage_add") + "?" + query


def _where(key: str, lang: str) -> str:
    return f"Message text {key} [{lang}]"


def _all_keys(content: Content) -> list[str]:
    return sorted(set(content.messages) | set(defaults.MESSAGES))


def _stored(content: Content, key: str, lang: str) -> str:
    """The text the service has for exactly this key and language ("" when none)."""
    for source in (content.messages, defaults.MESSAGES):
        text = (source.get(key) or {}).get(lang) or ""
        if text.strip():
            return text
    return ""


def messages_missing(content: Content, rows: _Rows) -> Iterable[Problem]:
    for key in _all_keys(content):
        for lang in LANGUAGES:
            if _stored(content, key, lang):
                continue
            name = LANGUAGE_NAMES[lang]
            if key.endswith("_gb"):
                base = key.removesuffix("_gb")
                effect = f"{name} speakers with a UK number get {base} instead (911, not 999)."
            elif lang != "en" and _stored(content, key, "en"):
                effect = f"{name} speakers get the English text."
            else:
                effect = "The service has no text to send."
            yield Problem(
                ERROR, _where(key, lang), rows.url(key, lang), f"No {name} text. {effect}"
            )


def _edited(content: Content, key: str, lang: str) -> bool:
    """True when the database text differs from the original (defaults) one."""
    original = (defaults.MESSAGES.get(key) or {}).get(lang)
    current = (content.messages.get(key) or {}).get(lang)
    return original is not None and current is not None and current.strip() != original.strip()


def messages_out_of_date(content: Content, rows: _Rows) -> Iterable[Problem]:
    """An edited English text whose translation (or UK variant) is still the original one."""
    for key in sorted(defaults.MESSAGES):
        if not _edited(content, key, "en"):
            continue
        for lang in LANGUAGES:
            if lang == "en" or _edited(content, key, lang):
                continue
            if not (defaults.MESSAGES[key].get(lang) and _stored(content, key, lang)):
                continue  # missing: messages_missing says so
            yield Problem(
                WARNING,
                _where(key, lang),
                rows.url(key, lang),
                f"The English text was edited but the {LANGUAGE_NAMES[lang]} one is still the "
                "original: the translation is probably out of date.",
            )
    for key in sorted(defaults.MESSAGES):
        variant = f"{key}_gb"
        if key.endswith("_gb") or variant not in defaults.MESSAGES:
            continue
        for lang in LANGUAGES:
            if _edited(content, key, lang) and not _edited(content, variant, lang):
                yield Problem(
                    WARNING,
                    _where(variant, lang),
                    rows.url(variant, lang),
                    f"{key} [{lang}] was edited but its UK variant is still the original: people "
                    "with a UK number still get the old wording.",
                )


def messages_too_long(content: Content, rows: _Rows) -> Iterable[Problem]:
    for key in _all_keys(content):
        for lang in LANGUAGES:
            raw = _stored(content, key, lang)
            if not raw:
                continue
            text = content._fill(raw)  # as sent: {service} and {contact} filled in
            info = segment_info(text)
            where, url = _where(key, lang), rows.url(key, lang)
            if info.non_gsm:
                chars = " ".join(repr(c) for c in info.non_gsm)
                yield Problem(
                    WARNING,
                    where,
                    url,
                    f"Sent as UCS-2 because of {chars}: 70 characters per SMS instead of 160 "
                    f"({info}). Replace {'it' if len(info.non_gsm) == 1 else 'them'} "
                    "(e.g. a plain quote or an unaccented letter).",
                )
            elif info.segments > 1:
                yield Problem(
                    WARNING,
                    where,
                    url,
                    f"Longer than one SMS: {info}, over the 160 a single text holds. Each part "
                    "is charged, and parts can arrive out of order.",
                )
            if "{" in text or "}" in text:
                yield Problem(
                    WARNING,
                    where,
                    url,
                    "Contains a { } placeholder the service does not fill in (only {service} and "
                    "{contact} are); the person would see it as typed.",
                )


# ---------------------------------------------------------------- emergency questions

# How a person with the emergency answers a YES/NO question, and how someone without it answers
# each question on the way, so the simulated conversation reaches the question being checked.
YES_REPLY = {"en": "YES", "es": "SI"}
_YES_WORD = {"en": re.compile(r"\byes\b"), "es": re.compile(r"\bsi\b")}
OPENING = {"en": "my upper back hurts", "es": "me duele la espalda alta"}
ON_THE_WAY = {
    "emergency_screen": {"en": "NO", "es": "NO"},
    "emergency_more": {"en": "NO", "es": "NO"},
    "urgent_signs": {"en": "NONE", "es": "NADA"},
    "cancer_band": {"en": "NO", "es": "NO"},
    "pain_now": {"en": "3 better", "es": "3 mejor"},
    "history": {"en": "3 days, lifting, 30", "es": "3 dias, cargando peso, 30"},
    "fall_bones": {"en": "NO", "es": "NO"},
    "other_signs": {"en": "NONE", "es": "NADA"},
    "age_smoking": {"en": "30 no", "es": "30 no"},
}
# An option that leads to an emergency only through a follow-up question: a cancer history
# (urgent_signs) brings the band-pain question (E10).
GATEWAYS = {"cancer_history": "cancer_band"}
MAX_TEXTS = 15


def _option_letter(q: str, symptom: str) -> str | None:
    return next((k for k, syms in OPTIONS.get(q, {}).items() if symptom in syms), None)


def _reply_for(q: str, target: str, lang: str) -> str:
    """The answer to `q` on the way to `target` (a cancer history on the way to cancer_band)."""
    for symptom, follow_up in GATEWAYS.items():
        letter = _option_letter(q, symptom)
        if follow_up == target and letter:
            return letter
    return ON_THE_WAY[q][lang]


def _outcome(t: Transition) -> str:
    """What happened to a simulated text, in words for the problem list."""
    intent = t.analysis.intent if t.analysis else None
    if t.action == "opt_out":
        return "it was read as STOP (opt-out)"
    if t.emergency:
        return "the emergency advice was given"
    if intent:
        return f"it was read as the keyword for {intent}"
    if t.state.phase == "done":
        return f"the conversation ended at {Tier(t.state.tier).name}"
    if t.state.pending:
        return f"the next question was {t.state.pending}, tier {Tier(t.state.tier).name}"
    return f"tier {Tier(t.state.tier).name}"


def _reach(target: str, lang: str, content: Content) -> tuple[State | None, str]:
    """The state with `target` asked, or why a person never gets there."""
    person = Person(language=lang, country="US")
    t = advance(None, OPENING[lang], person=person, content=content)
    said = [OPENING[lang]]
    for _ in range(MAX_TEXTS):
        st = t.state
        if st.phase == "asking" and st.pending == target:
            return st, ""
        if t.emergency or st.phase != "asking" or not st.pending:
            return None, f"after {' / '.join(repr(s) for s in said)}, {_outcome(t)}"
        reply = _reply_for(st.pending, target, lang)
        said.append(reply)
        t = advance(st, reply, person=person, content=content)
        if (t.state.pending, t.state.part, t.state.reasked) == (st.pending, st.part, st.reasked):
            # Neither an answer nor a re-ask: the reply is taken for something else (a keyword).
            return None, f"answering {reply!r} to {st.pending}, {_outcome(t)}"
    return None, f"it was not asked within {MAX_TEXTS} texts"


def _emergency_letters(q: str, content: Content) -> list[str]:
    """The options of `q` that must lead to an emergency, per the rule table (and any raised
    tiers): directly, or through a follow-up question (a cancer history)."""
    letters = []
    for letter, symptoms in OPTIONS[q].items():
        direct = evaluate(Facts(symptoms=frozenset(symptoms)), raised=content.raised)
        if direct.tier == Tier.EMERGENCY or any(s in GATEWAYS for s in symptoms):
            letters.append(letter)
    return letters


def _answer_until_outcome(st: State, reply: str, lang: str, content: Content) -> Transition:
    """Give `reply`, then YES to each emergency follow-up question, as the person would."""
    person = Person(language=lang, country="US")
    t = advance(st, reply, person=person, content=content)
    for _ in range(3):
        if t.emergency or t.state.phase != "asking" or t.state.pending not in EMERGENCY_QUESTIONS:
            break
        t = advance(t.state, YES_REPLY[lang], person=person, content=content)
    return t


def _checked_questions(content: Content) -> list[str]:
    """Every question that screens for emergency signs with the current rule tiers."""
    return [
        q
        for q in SERVES
        if q in EMERGENCY_QUESTIONS or can_reach(SERVES[q], content.raised) == Tier.EMERGENCY
    ]


def emergency_questions_broken(content: Content, rows: _Rows) -> Iterable[Problem]:
    for q in _checked_questions(content):
        for lang in LANGUAGES:
            yield from _question_text_problems(q, lang, content, rows)
            st, why = _reach(q, lang, content)
            key = f"q.{q}"
            if st is None:
                yield Problem(
                    ERROR,
                    _where(key, lang),
                    rows.url(key, lang),
                    f"A person is never asked this emergency question: {why}.",
                )
                continue
            if q in OPTIONS:
                replies = _emergency_letters(q, content)
                if not replies:
                    yield Problem(
                        ERROR,
                        _where(key, lang),
                        rows.url(key, lang),
                        "None of its options leads to an emergency any more.",
                    )
            else:
                replies = [YES_REPLY[lang]]
            for reply in replies:
                t = _answer_until_outcome(st, reply, lang, content)
                if not t.emergency:
                    yield Problem(
                        ERROR,
                        _where(key, lang),
                        rows.url(key, lang),
                        f"Answering {reply!r}, as a person with an emergency would, no longer "
                        f"gives the emergency advice: {_outcome(t)}. Check the answer words "
                        "and keywords.",
                    )


def _question_text_problems(q: str, lang: str, content: Content, rows: _Rows) -> Iterable[Problem]:
    """The text must still offer what the engine reads: YES/NO, or the option letters."""
    keys = [f"q.{q}"] + ([TWO_PART[q]] if q in TWO_PART else [])
    for uk in (False, True):
        shown = replace(content, uk=uk)
        try:
            texts = [shown.text(k, lang) for k in keys]
        except KeyError:
            continue  # no text at all: messages_missing says so
        key = keys[0] + ("_gb" if uk and _stored(content, keys[0] + "_gb", lang) else "")
        if uk and key == keys[0]:
            continue  # no UK variant: the same text as checked above
        joined = "\n".join(texts)
        name = LANGUAGE_NAMES[lang]
        if q in OPTIONS:
            missing = [k for k in OPTIONS[q] if not re.search(rf"(?<![A-Za-z]){k}\)", joined)]
            if missing:
                yield Problem(
                    ERROR,
                    _where(key, lang),
                    rows.url(key, lang),
                    f"The {name} text no longer shows option(s) "
                    f"{', '.join(m + ')' for m in missing)}: the service reads each letter as "
                    "a fixed answer, so a person cannot choose it.",
                )
        elif not _YES_WORD[lang].search(fold(joined)):
            yield Problem(
                ERROR,
                _where(key, lang),
                rows.url(key, lang),
                f"The {name} text no longer asks for {YES_REPLY[lang]} or NO: the service reads "
                "this answer as yes or no.",
            )


# ---------------------------------------------------------------- rules and their test texts


def _rule_url(rule_id: str) -> str:
    return reverse("admin:triage_rule_change", args=[rule_id])


def _phrase_result(phrase: str, content: Content) -> Transition:
    """A first text, as the engine screens it (the same path as a real inbound text)."""
    return advance(None, phrase, person=Person(country="US"), content=content)


def _matches(t: Transition, rule_id: str, tier: Tier) -> bool:
    return rule_id in t.state.reasons or t.state.tier > tier


def rules_test_phrases_failing(content: Content) -> Iterable[Problem]:
    builtin = Content()
    for rule in Rule.objects.exclude(test_phrases="").order_by("rule_id"):
        rule_id = rule.rule_id
        if rule_id not in RULE_TIERS or rule_id in content.disabled_rules:
            continue  # switched off on purpose: its texts need not trigger it
        tier = max(RULE_TIERS[rule_id], Tier.parse(content.raised.get(rule_id, 0)))
        for phrase in (p.strip() for p in rule.test_phrases.splitlines()):
            if not phrase:
                continue
            t = _phrase_result(phrase, content)
            if t.action == "opt_out" and _phrase_result(phrase, builtin).action != "opt_out":
                yield Problem(
                    ERROR,
                    f"Rule {rule_id}",
                    _rule_url(rule_id),
                    f"Test text {phrase!r} is now read as STOP: the person would be unsubscribed "
                    "(check the keywords).",
                )
                continue
            if _matches(t, rule_id, tier):
                continue
            got = f"{Tier(t.state.tier).name} ({', '.join(t.state.reasons) or 'no rule'})"
            if t.state.tier >= Tier.EMERGENCY and tier >= Tier.EMERGENCY:
                yield Problem(
                    WARNING,
                    f"Rule {rule_id}",
                    _rule_url(rule_id),
                    f"Test text {phrase!r} now triggers {got} instead of {rule_id}: still an "
                    "emergency, but not for this rule's reason.",
                )
                continue
            if _matches(_phrase_result(phrase, builtin), rule_id, RULE_TIERS[rule_id]):
                cause = (
                    "The built-in vocabulary matches it, so an edit to the keywords or answer "
                    "words stopped it."
                )
            else:
                cause = (
                    "The built-in vocabulary does not match it: it needs an extra phrase on this "
                    "rule (was one removed or reworded?), or the test text is wrong."
                )
            yield Problem(
                ERROR,
                f"Rule {rule_id}",
                _rule_url(rule_id),
                f"Test text {phrase!r} no longer triggers {rule_id}: read as {got}. {cause}",
            )


def checkin_steps_without_text(content: Content) -> Iterable[Problem]:
    for step in CheckinStep.objects.filter(active=True).order_by("-tier", "offset_days"):
        if any(_stored(content, step.message_key, lang) for lang in LANGUAGES):
            continue
        yield Problem(
            ERROR,
            f"Check-in plan step {step}",
            reverse("admin:reminders_checkinstep_change", args=[step.pk]),
            f"No message text has the key {step.message_key}: this check-in would fail to send.",
        )
