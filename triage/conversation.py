"""The triage conversation as a pure state machine: `advance(state, text, ...) -> Transition`.

No database: the caller loads the state (a JSON dict on the Conversation row) and the content,
calls `advance`, and stores what comes back. Order of business for every inbound text:

1. screen it for emergency signs (F01) - an emergency reply goes out at once, alone;
2. keywords: opt-out (with the emergency advice folded in when both, F04), help, restart,
   language; after STOP, only START (a new, blank episode), HELP and emergencies are answered;
3. otherwise answer the pending question, then ask the next question that could still raise
   the tier (highest tier wins and is never lowered, F02), or give the outcome.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from triage import defaults
from triage.rules import (
    EMERGENCY_SYMPTOMS,
    NG12_SYMPTOMS,
    SOON_SYMPTOMS,
    URGENT_SYMPTOMS,
    Assessment,
    Facts,
    Tier,
    can_reach,
    emergency_rules,
    evaluate,
)
from triage.understanding import (
    BETTER,
    NO,
    SAME,
    UNSURE,
    WORSE,
    YES,
    Analysis,
    analyze,
    fold,
    parse_age,
    parse_options,
    parse_pain_score,
    parse_trend,
    parse_weeks,
    parse_yes_no,
    says_emergency_call,
)

# Everything the rule table reads: the symptom tables, plus the inputs of the combination rules
# (E10, U08) and where the pain is (R02).
KNOWN_SYMPTOMS = frozenset().union(
    *EMERGENCY_SYMPTOMS.values(),
    *URGENT_SYMPTOMS.values(),
    *SOON_SYMPTOMS.values(),
    NG12_SYMPTOMS,
    {"band_like_or_radiating_pain", "injury_or_fall", "osteoporosis_or_steroids"},
    {"lower_back", "upper_back"},
)


# ---------------------------------------------------------------- content and state


@dataclass(frozen=True)
class Content:
    """Everything staff can edit, as plain data. Missing texts fall back to the defaults."""

    messages: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    answer_words: Mapping[str, str] | None = None  # phrase -> yes/no/unsure
    keywords: Mapping[str, str] | None = None  # phrase -> intent
    extra_phrases: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    disabled_rules: frozenset[str] = frozenset()
    raised: Mapping[str, int] = field(default_factory=dict)
    service: str = "BackCheck"
    version: int = 0  # triage.models.ContentVersion id: recorded with each outcome
    contact: str = "help@backcheck.example"
    uk: bool = False  # texting a +44 number: a message's "_gb" variant (999, A&E) wins

    def text(self, key: str, lang: str) -> str:
        if self.uk:
            for source in (self.messages, defaults.MESSAGES):
                body = (source.get(f"{key}_gb") or {}).get(lang)
                if body:
                    return self._fill(body)
        for source in (self.messages, defaults.MESSAGES):
            texts = source.get(key) or {}
            body = texts.get(lang) or texts.get("en")
            if body:
                return self._fill(body)
        raise KeyError(key)

    def _fill(self, body: str) -> str:
        return body.replace("{service}", self.service).replace("{contact}", self.contact)


@dataclass(frozen=True)
class Person:
    opted_out: bool = False
    language: str | None = None
    country: str | None = None  # ISO region of their number, e.g. "US", "GB"


@dataclass
class State:
    phase: str = "new"  # new -> asking -> done
    pending: str | None = None  # the question awaiting an answer
    part: str | None = None  # the piece of a two-part answer still missing
    reasked: bool = False
    answered: list[str] = field(default_factory=list)
    symptoms: list[str] = field(default_factory=list)
    screen_positive: bool = False
    unclear_emergency: bool = False
    weeks: float | None = None
    trend: str | None = None
    pain_score: int | None = None
    age: int | None = None
    smoked: bool | None = None
    cause: str | None = None  # strain, fall, none
    tier: int = 0
    reasons: list[str] = field(default_factory=list)
    texts_in: int = 0
    # Follow-up after the outcome (reminders app): the check-in being answered, the pain score
    # at each contact, and how long ago the outcome was (pain duration = weeks + this).
    checkin_id: int | None = None
    checkin_kind: str = "pain"
    checkin_key: str = ""  # its message, to ask again in another language
    scores: list[int] = field(default_factory=list)
    elapsed_weeks: float = 0.0

    @classmethod
    def from_dict(cls, data: Mapping | None) -> State:
        known = cls.__dataclass_fields__
        return cls(**{k: v for k, v in (data or {}).items() if k in known})

    def to_dict(self) -> dict:
        # Not dataclasses.asdict: its generic recursive copy was about 5% of the webhook's CPU
        # per text. Each field is a scalar or a list of scalars (copied, as asdict does).
        return {
            name: list(value) if isinstance(value := getattr(self, name), list) else value
            for name in self.__dataclass_fields__
        }

    def facts(self) -> Facts:
        symptoms = set(self.symptoms)
        if "lower_back" in symptoms and "upper_back" not in symptoms:
            symptoms.add("lower_back_only")
        weeks = self.weeks
        if self.elapsed_weeks:
            weeks = (weeks or 0.0) + self.elapsed_weeks
        return Facts(
            symptoms=frozenset(symptoms),
            screen_positive=self.screen_positive,
            weeks=weeks,
            improving=None if self.trend is None else self.trend == BETTER,
            pain_score=self.pain_score,
            age=self.age,
            ever_smoked=self.smoked,
            clear_cause=None if self.cause is None else self.cause == "strain",
            unclear_emergency_answer=self.unclear_emergency,
        )


@dataclass
class Transition:
    state: State
    replies: list[str] = field(default_factory=list)
    action: str | None = None  # opt_out, opt_in, restart
    language: str | None = None
    outcome: Assessment | None = None  # set on the turn an outcome is given
    emergency: bool = False
    flags: list[str] = field(default_factory=list)  # unparsed, emergency_while_opted_out
    analysis: Analysis | None = None
    person: Person = field(default_factory=Person)
    # What a check-in reply said, for the check-in's row: {"id", "pain_score", "trend"}.
    checkin_answer: dict | None = None


@dataclass(frozen=True)
class Checkin:
    """The latest check-in sent to the person: any reply, however late, answers it."""

    id: int
    kind: str = "pain"  # "pain": better/same/worse/0-10; "booked": did you book / see someone?
    key: str = ""  # the message it sent, e.g. "checkin.six_weeks"


# ---------------------------------------------------------------- questions

OPTIONS = {
    "urgent_signs": {
        "A": ("cancer_history",),
        "B": ("fever",),
        "C": ("weight_loss_unintentional",),
        "D": ("night_pain", "pain_at_rest"),
        "E": ("pain_cough_strain",),
        "F": ("pain_deep_breath",),
        "G": ("coughing_blood_streaks",),
        "H": ("breathless_at_rest",),
        "I": ("lump_or_deformity",),
    },
    "other_signs": {
        "A": ("persistent_cough",),
        "B": ("shortness_of_breath",),
        "C": ("fatigue_chronic",),
        "D": ("recurrent_chest_infections",),
        "E": ("spreading_ribs_chest_shoulder",),
        "F": ("not_responding_to_treatment",),
        "G": ("appetite_loss",),
    },
}
EMERGENCY_QUESTIONS = ("emergency_screen", "emergency_more", "cancer_band")
# question -> rules it serves (to skip a question that can no longer raise the tier)
SERVES = {
    "emergency_screen": ("E00",),
    "emergency_more": ("E00",),
    # E10: a cancer history found here leads to the band-pain emergency question.
    "urgent_signs": ("E10", "U01", "U02", "U03", "U04", "U05", "U06", "U07", "U10", "U12"),
    "cancer_band": ("E10",),
    "pain_now": ("U11", "U09", "S01", "S07", "S09"),
    "history": ("U09", "U08", "S01"),
    "fall_bones": ("U08",),
    "other_signs": ("S02", "S03", "S04", "S05", "S06", "S07", "S08"),
    "age_smoking": ("S08", "S09", "U08"),
}
TWO_PART = {"urgent_signs": "q.urgent_signs.more", "other_signs": "q.other_signs.more"}


def _applies(q: str, st: State) -> bool:
    s = set(st.symptoms)
    if q == "cancer_band":
        return "cancer_history" in s
    if q == "fall_bones":
        return (
            st.cause == "fall"
            and "osteoporosis_or_steroids" not in s
            and (st.age is None or st.age < 50)
        )
    if q == "age_smoking":
        if st.age is None:
            return st.cause == "fall" or st.trend != BETTER or bool(s & NG12_SYMPTOMS)
        # smoking only tips S08 for someone 40+ with exactly one NG12 symptom
        return st.smoked is None and st.age >= 40 and len(s & NG12_SYMPTOMS) == 1
    return True


def _missing_parts(q: str, st: State) -> list[str]:
    if q in st.answered:
        return []
    if q == "pain_now":
        return [p for p, v in (("score", st.pain_score), ("trend", st.trend)) if v is None]
    if q == "history":
        parts = (("weeks", st.weeks), ("cause", st.cause), ("age", st.age))
        return [p for p, v in parts if v is None]
    return ["all"]


def next_question(st: State, content: Content) -> str | None:
    for q in SERVES:
        if not _missing_parts(q, st) or not _applies(q, st):
            continue
        if q not in EMERGENCY_QUESTIONS and can_reach(SERVES[q], content.raised) <= st.tier:
            continue
        return q
    return None


def question_texts(
    q: str, st: State, content: Content, lang: str, reask: bool = False
) -> list[str]:
    if reask and st.part in (None, "all"):
        return [content.text(f"q.{q}.reask", lang)]
    if st.part and st.part != "all" and q in ("pain_now", "history"):
        return [content.text(f"q.{q}.{st.part}", lang)]
    if q == "age_smoking" and (st.part == "smoked" or st.age is not None):
        return [content.text("q.age_smoking.smoked", lang)]
    texts = [content.text(f"q.{q}", lang)]
    if q in TWO_PART:
        texts.append(content.text(TWO_PART[q], lang))
    return texts


# ---------------------------------------------------------------- the machine


def advance(
    state: State | Mapping | None,
    text: str,
    *,
    person: Person = Person(),
    content: Content = Content(),
    checkin: Checkin | None = None,
    elapsed_weeks: float = 0.0,
) -> Transition:
    """`checkin`: the latest check-in sent in this episode; `elapsed_weeks`: since the outcome."""
    st = state if isinstance(state, State) else State.from_dict(state)
    st = replace(
        st,
        answered=list(st.answered),
        symptoms=list(st.symptoms),
        reasons=list(st.reasons),
        scores=list(st.scores),
    )
    content = replace(content, uk=person.country in UK_REGIONS)
    a = analyze(text, extra_phrases=content.extra_phrases, keywords=content.keywords)
    lang = _language(a, person)
    t = Transition(state=st, language=lang, analysis=a, person=person)
    cancer = "cancer_history" in st.symptoms or "cancer_history" in a.present
    emergency = emergency_rules(a.present, cancer_history=cancer)
    if not emergency and says_emergency_call(text):
        emergency = ["E00"]  # "911", "SOS": a call for help gets the emergency advice

    if person.opted_out:
        if a.intent == "opt_in" or (fold(text).strip(" .!") in ("yes", "si")):
            # Re-subscribed into a new episode: nothing of the stopped one (half-answered
            # questions, its outcome) carries over; their next text about pain starts afresh.
            t.action = "opt_in"
            t.state = st = State(texts_in=1)
            if emergency:  # F01: the START text is screened too; the advice comes first
                _absorb(st, a)
                _emergency(t, emergency, person, content, lang)
            t.replies.append(content.text("sys.optin", lang))
        elif a.intent == "help":
            t.replies = [content.text("sys.help", lang)]  # CTIA: HELP is answered, even after STOP
        elif emergency:
            # They wrote to us describing an emergency: the advice goes back, nothing else.
            _emergency(t, emergency, person, content, lang)
            t.flags.append("emergency_while_opted_out")
        return t

    st.texts_in += 1
    if a.intent == "opt_out":
        t.action = "opt_out"
        key = "sys.optout"
        if emergency:
            _emergency_answers_checkin(t, checkin, text)
            _emergency(t, emergency, person, content, lang)  # the episode ends as an emergency
            key = "sys.optout_crisis" if emergency == ["E12"] else "sys.optout_emergency"
        t.replies = [content.text(key, lang)]  # one reply: the confirmation carries the advice
        return t

    if emergency:
        _absorb(st, a)
        _emergency_answers_checkin(t, checkin, text)
        _emergency(t, emergency, person, content, lang)
        return t

    if (
        st.phase in ("done", "checkin")
        and st.tier < Tier.EMERGENCY
        and checkin is not None
        and checkin.id != st.checkin_id
    ):
        # A check-in went out since the last text: this text answers it (F08). Not after an
        # emergency: its check-ins are cancelled, and the answer is "call 911", not pain news.
        st.checkin_id = checkin.id
        st.phase, st.part, st.reasked = "checkin", None, False
        st.pending = "checkin_booked" if checkin.kind == "booked" else "checkin_pain"
        st.checkin_kind, st.checkin_key = checkin.kind, checkin.key
    if a.intent == "restart" or (a.intent == "opt_in" and st.phase == "done"):
        t.action = "restart"
        t.state = st = State(texts_in=1)
        return _start(t, a, content, lang)
    if a.intent == "help":
        t.replies = [content.text("sys.help", lang)]
        if st.phase == "asking" and st.pending:
            t.replies += question_texts(st.pending, st, content, lang)
        elif st.phase == "checkin" and st.pending:
            t.replies.append(content.text(_checkin_question(st), lang))
        return t
    if a.intent in ("lang_en", "lang_es"):
        t.replies = [content.text("sys.language_set", lang)]
        if st.phase == "asking" and st.pending:
            t.replies += question_texts(st.pending, st, content, lang)
        elif st.phase == "checkin" and st.pending:
            t.replies.append(content.text(_checkin_question(st), lang))
        elif st.phase == "new":
            t.replies = []
            return _start(t, a, content, lang)
        return t

    if st.phase == "new":
        return _start(t, a, content, lang)
    if st.phase == "checkin":
        st.elapsed_weeks = max(st.elapsed_weeks, elapsed_weeks)
        return _checkin_answer(t, a, text, content, lang)
    if st.phase == "done" and (a.trend is not None or a.pain_score is not None):
        # Unprompted news about the pain: re-run the duration rules on today's duration (F08).
        st.elapsed_weeks = max(st.elapsed_weeks, elapsed_weeks)
        st.trend = a.trend or st.trend
        if a.pain_score is not None:
            st.pain_score = a.pain_score
    if not a.tokens and st.phase == "asking" and st.pending and parse_yes_no(text) is None:
        # A picture, a voice note or an empty text: say we read words, ask again, costs no re-ask.
        t.replies = [content.text("sys.unreadable", lang)]
        t.replies += question_texts(st.pending, st, content, lang, reask=st.reasked)
        return t
    if st.phase == "done":
        if st.tier < Tier.EMERGENCY and _raised_after_outcome(t, a, content, lang):
            return t
        key = "sys.after_emergency" if st.tier >= Tier.EMERGENCY else "sys.after_outcome"
        t.replies = [content.text(key, lang)]
        return t
    return _answer(t, a, text, content, lang)


def _language(a: Analysis, person: Person) -> str:
    if a.intent == "lang_es":
        return "es"
    if a.intent == "lang_en":
        return "en"
    words = [x for x in a.tokens if x.isalpha()]
    if a.language and (
        person.language is None or (a.language != person.language and len(words) >= 3)
    ):
        return a.language
    return person.language or a.language or "en"


UK_REGIONS = frozenset({"GB", "GG", "JE", "IM"})  # +44: 999, not 911


def _raise(st: State, tier: Tier, reasons: list[str] | tuple[str, ...]) -> None:
    """Tiers only go up within an episode (F02); reasons accumulate."""
    st.tier = max(st.tier, int(tier))
    if st.tier > Tier.ROUTINE:  # "no red flags" no longer true
        st.reasons = [r for r in st.reasons if r not in ("R01", "R02")]
    for r in reasons:
        if r not in st.reasons:
            st.reasons.append(r)


def _absorb(st: State, a: Analysis) -> None:
    """Keep what a free-text message told us, whatever question it was answering."""
    for s in sorted(a.present & KNOWN_SYMPTOMS):
        if s not in st.symptoms:
            st.symptoms.append(s)
    if st.weeks is None and a.weeks is not None:
        st.weeks = a.weeks
    if a.trend is not None and (st.trend is None or a.trend != BETTER):
        st.trend = a.trend
    if st.pain_score is None and a.pain_score is not None:
        st.pain_score = a.pain_score
    if st.cause is None:
        if a.present & {"injury_or_fall", "major_trauma"}:
            st.cause = "fall"
        elif "clear_mechanical_cause" in a.present:
            st.cause = "strain"
        elif "no_clear_cause" in a.present:
            st.cause = "none"


def _emergency(
    t: Transition, rule_ids: list[str], person: Person, content: Content, lang: str
) -> None:
    st = t.state
    _raise(st, Tier.EMERGENCY, rule_ids)
    st.phase, st.pending, st.part = "done", None, None
    t.emergency = True
    t.outcome = Assessment(Tier.EMERGENCY, tuple(st.reasons))
    replies = []
    if set(rule_ids) - {"E12"}:
        replies.append(content.text("outcome.emergency", lang))
    if "E12" in rule_ids:
        replies.append(content.text("outcome.crisis", lang))
    t.replies = replies


def _emergency_answers_checkin(t: Transition, checkin: Checkin | None, text: str) -> None:
    """An emergency in reply to a check-in answers it, like any other reply: the check-in is
    marked replied (response rate, the plan) before the emergency cancels the rest of the plan.

    Call before `_emergency`. The trend is "worse" whatever the text says of the pain: a new
    emergency sign since the last contact is a worsening, and a clinician reads the text.
    """
    st = t.state
    if st.phase not in ("done", "checkin") or st.tier >= Tier.EMERGENCY:
        return
    if checkin is not None and checkin.id != st.checkin_id:
        st.checkin_id, st.checkin_kind, st.checkin_key = checkin.id, checkin.kind, checkin.key
    elif st.phase != "checkin" or st.checkin_id is None:
        return  # that check-in was answered and closed already: this is news, not an answer
    score = parse_pain_score(text)
    if score is not None:
        st.scores.append(score)
        st.pain_score = score
    st.trend = WORSE
    t.checkin_answer = {"id": st.checkin_id, "pain_score": score, "trend": WORSE}


def _start(t: Transition, a: Analysis, content: Content, lang: str) -> Transition:
    st = t.state
    _absorb(st, a)
    st.phase = "asking"
    t.replies = [content.text("sys.welcome", lang)]
    return _ask_next(t, content, lang)


def _ask_next(
    t: Transition, content: Content, lang: str, prefix: list[str] | None = None
) -> Transition:
    st = t.state
    facts = st.facts()
    assessment = evaluate(facts, disabled=content.disabled_rules, raised=content.raised)
    if assessment.tier > Tier.ROUTINE:
        _raise(st, assessment.tier, assessment.rule_ids)
    if st.tier >= Tier.EMERGENCY:
        fired = [r for r in assessment.rule_ids if r.startswith("E")] or ["E00"]
        _emergency(t, fired, t.person, content, lang)
        return t
    q = next_question(st, content)
    replies = list(t.replies) + list(prefix or [])
    if q is None:
        st.phase, st.pending, st.part = "done", None, None
        tier = Tier(max(st.tier, assessment.tier))
        if tier == Tier.ROUTINE:  # R01 or R02: no red flag anywhere in the episode
            _raise(st, tier, assessment.rule_ids)
        t.outcome = Assessment(tier, tuple(st.reasons))
        t.replies = replies + _outcome_texts(tier, st, content, lang)
        return t
    if q != st.pending:
        st.reasked = False
    st.pending = q
    missing = _missing_parts(q, st)
    st.part = missing[0] if q in ("pain_now", "history") and len(missing) == 1 else None
    t.replies = replies + question_texts(q, st, content, lang)
    return t


def _raised_after_outcome(t: Transition, a: Analysis, content: Content, lang: str) -> bool:
    """A new warning sign after the advice ("now I have a fever"): a higher tier, new advice."""
    st = t.state
    _absorb(st, a)
    assessment = evaluate(st.facts(), disabled=content.disabled_rules, raised=content.raised)
    if assessment.tier <= st.tier:
        return False
    _raise(st, assessment.tier, assessment.rule_ids)
    t.outcome = Assessment(Tier(st.tier), tuple(st.reasons))
    t.replies = _outcome_texts(Tier(st.tier), st, content, lang)
    return True


def _outcome_texts(tier: Tier, st: State, content: Content, lang: str) -> list[str]:
    if tier == Tier.URGENT:
        key = "outcome.urgent_cancer" if "cancer_history" in st.symptoms else "outcome.urgent"
        return [content.text(key, lang), content.text("outcome.disclaimer", lang)]
    if tier == Tier.SOON:
        return [content.text("outcome.soon", lang), content.text("outcome.soon_watch", lang)]
    if "R02" in st.reasons:
        return [content.text("outcome.lower_back", lang)]
    return [content.text("outcome.routine", lang), content.text("outcome.routine_watch", lang)]


_SMOKE_YES = re.compile(r"\b(smoke|smoked|smoker|smoking|fumo|fume|fumador|fumadora|fumaba)\b")
_SMOKE_NO = re.compile(
    r"\b(never|non|not|dont|no|nunca|jamas)\b[^.]{0,12}\b(smoke|smoked|smoker|fumo|fume|fumado|fumador)"
)


def _answer(t: Transition, a: Analysis, text: str, content: Content, lang: str) -> Transition:
    st = t.state
    q = st.pending or next_question(st, content)
    if q is None:
        return _ask_next(t, content, lang)
    _absorb(st, a)
    words = content.answer_words
    understood = True

    if q in EMERGENCY_QUESTIONS:
        ans = parse_yes_no(text, words)
        if ans == YES:
            if q == "cancer_band":
                st.symptoms.append("band_like_or_radiating_pain")
            else:
                st.screen_positive = True
            st.answered.append(q)
        elif ans == NO:
            st.answered.append(q)
        else:
            understood = False
    elif q in OPTIONS:
        letters = "".join(OPTIONS[q])
        chosen = parse_options(text, letters)
        if chosen is None and parse_yes_no(text, words) == NO:
            chosen = frozenset()
        from_text = {k for k, syms in OPTIONS[q].items() if set(syms) & a.present}
        if chosen is None and from_text:
            chosen = frozenset(from_text)
        if chosen is None:
            understood = False
        else:
            for letter in sorted(chosen | from_text):
                for s in OPTIONS[q][letter]:
                    if s not in st.symptoms:
                        st.symptoms.append(s)
            st.answered.append(q)
    elif q == "pain_now":
        before = len(_missing_parts(q, st))
        if st.pain_score is None:
            score = parse_pain_score(text)
            if score is not None and not (st.part == "trend"):
                st.pain_score = score
        if st.trend is None:
            st.trend = parse_trend(text)
        understood = len(_missing_parts(q, st)) < before
    elif q == "history":
        before = len(_missing_parts(q, st))
        if st.weeks is None:
            st.weeks = parse_weeks(text)
        if st.age is None and (st.part in (None, "age")):
            st.age = parse_age(text)
        if st.cause is None and (a.uncertain or parse_yes_no(text, words) in (NO, UNSURE)):
            if st.part == "cause":
                st.cause = "none"
        understood = len(_missing_parts(q, st)) < before
    elif q == "fall_bones":
        ans = parse_yes_no(text, words)
        if ans in (YES, NO):
            if ans == YES:
                st.symptoms.append("osteoporosis_or_steroids")
            st.answered.append(q)
        else:
            understood = False
    elif q == "age_smoking":
        had_age = st.age is not None
        st.age = st.age if had_age else parse_age(text)
        folded = fold(text)
        if st.smoked is None:
            if _SMOKE_NO.search(folded):
                st.smoked = False
            elif _SMOKE_YES.search(folded):
                st.smoked = True
            else:
                rest = re.sub(r"\d+|years?|old|yo|anos|tengo|i am|im", " ", folded)
                ans = parse_yes_no(rest if not had_age else folded, words)
                st.smoked = {YES: True, NO: False}.get(ans or "")
        if st.age is not None and st.smoked is not None:
            st.answered.append(q)
        elif st.age is not None and not st.reasked:
            st.part, st.reasked = "smoked", True
            t.replies = question_texts(q, st, content, lang)
            return t
        else:
            understood = st.age is not None

    if not understood:
        if not st.reasked:
            st.reasked = True
            t.replies = question_texts(q, st, content, lang, reask=True)
            return t
        return _give_up(t, q, content, lang)
    if q in ("pain_now", "history") and _missing_parts(q, st):
        # Progress: ask only for what is still missing ("41" -> "and how long...?").
        st.part = _missing_parts(q, st)[0]
        t.replies = question_texts(q, st, content, lang)
        return t
    if q == "age_smoking" and q not in st.answered:
        _assume_worst(st, q)
    return _ask_next(t, content, lang)


def _assume_worst(st: State, q: str) -> None:
    """A part still missing after one re-ask counts against the person, never for them."""
    if q == "pain_now" and st.trend is None:
        st.trend = SAME
    if q == "history" and st.cause is None:
        st.cause = "none"
    if q == "age_smoking":
        st.age = st.age if st.age is not None else 50
        st.smoked = True if st.smoked is None else st.smoked
    if q not in st.answered:
        st.answered.append(q)


def _give_up(t: Transition, q: str, content: Content, lang: str) -> Transition:
    """Still unclear after a re-ask (F03): err to safety and move on."""
    st = t.state
    t.flags.append("unparsed")
    st.answered.append(q)
    prefix: list[str] = []
    if q in EMERGENCY_QUESTIONS:
        st.unclear_emergency = True
        prefix = [content.text("sys.safety_net", lang)]
    elif q in OPTIONS:
        # The worst non-emergency answer this question has, never EMERGENCY: 911 for an
        # unreadable reply would teach people to ignore it.
        _raise(st, min(can_reach(SERVES[q], content.raised), Tier.URGENT), ["F03"])
    else:
        _assume_worst(st, q)
    t.replies = []
    return _ask_next(t, content, lang, prefix=prefix)


# ---------------------------------------------------------------- check-in replies (F08)

CHECKIN_REASK = {
    "checkin_pain": "checkin.reask",
    "checkin_signs": "checkin.signs_reask",
    "checkin_booked": "checkin.booked_reask",
}
WORSENING_POINTS = 2  # a score this much above the last contact's is a worsening trend
# "a bit better" answers how the pain is: to "did you book?" it is no partial yes.
_PARTLY = re.compile(r"\b(a little|a bit|kinda|kind of|sometimes|a veces|un poco|mas o menos)\b")


# "no pain now", "pain's gone", "pain free", "ya no me duele": a score of 0 (not "not gone").
_RESOLVED = re.compile(
    r"\b(no (more |longer any )?pain|(pain|it)( is|s)? (all )?gone|gone away|pain free|"
    r"sin dolor|ya no (me )?duele|no me duele)\b"
)
_NOT_RESOLVED = re.compile(r"\b(not|isnt|hasnt|never|no ha|todavia)\b[^.]{0,12}\b(gone|away|ido)\b")


def _checkin_question(st: State) -> str:
    """The key of the question a check-in reply is awaited for (to ask it again)."""
    if st.pending == "checkin_signs":
        return "checkin.signs"
    return st.checkin_key or CHECKIN_REASK.get(st.pending or "", "checkin.reask")


def _checkin_answer(
    t: Transition, a: Analysis, text: str, content: Content, lang: str
) -> Transition:
    """A reply to a check-in: how the pain is (or whether they booked), then any new sign."""
    st = t.state
    q = st.pending or "checkin_pain"
    if not a.tokens and parse_yes_no(text) is None:
        t.replies = [content.text("sys.unreadable", lang), content.text(CHECKIN_REASK[q], lang)]
        return t
    before = set(st.symptoms)
    _absorb(st, a)
    score = parse_pain_score(text)
    trend = parse_trend(text)
    folded = fold(text)
    if score is None and _RESOLVED.search(folded) and not _NOT_RESOLVED.search(folded):
        score, trend = 0, BETTER
    last = st.scores[-1] if st.scores else st.pain_score
    if trend is None and score is not None:
        if last is not None:
            trend = (
                WORSE
                if score - last >= WORSENING_POINTS
                else BETTER
                if last - score >= WORSENING_POINTS
                else SAME
            )
        else:
            trend = BETTER if score == 0 else SAME
    if score is not None and last is not None and score - last >= WORSENING_POINTS:
        trend = WORSE  # "better" with a score two points up is still a worsening trend
    if score is not None or trend is not None:
        t.checkin_answer = {"id": st.checkin_id, "pain_score": score, "trend": trend}
        if score is not None:
            st.scores.append(score)
            st.pain_score = score
        if trend is not None:
            st.trend = trend

    if set(st.symptoms) - before and _raised_after_outcome(t, a, content, lang):
        st.phase, st.pending = "done", None  # a new warning sign: that tier's advice, now
        return t

    answer = parse_yes_no(text, content.answer_words)
    if q == "checkin_booked":
        answer = parse_yes_no(_PARTLY.sub(" ", fold(text)), content.answer_words)
        if answer in (YES, NO):
            st.phase, st.pending = "done", None
            if t.checkin_answer is None:  # answered, with no news of the pain: when they did
                t.checkin_answer = {"id": st.checkin_id, "pain_score": None, "trend": None}
            if (score is not None or trend is not None) and _raised_after_outcome(
                t, a, content, lang
            ):
                return t  # "yes, but it's 9/10 now": the higher tier's advice, booked or not
            if trend == WORSE:
                # "yes, but it's worse": booked or not, a worsening is screened for new signs
                # and advised on, as in any check-in reply (never just "good, keep it").
                st.phase, st.pending, st.reasked = "checkin", "checkin_signs", False
                t.replies = [content.text("checkin.signs", lang)]
                return t
            if answer == YES:
                t.replies = [content.text("checkin.booked_yes", lang)]
            else:  # not yet: the advice again, at the tier they already have
                t.replies = _outcome_texts(Tier(st.tier), st, content, lang)
            return t
        if trend is not None:
            q = "checkin_pain"  # "it's much better now": a pain answer, however it was asked
        elif not st.reasked:
            st.reasked = True
            t.replies = [content.text(CHECKIN_REASK[q], lang)]
            return t
        else:
            t.flags.append("unparsed")
            st.phase, st.pending = "done", None
            t.replies = _outcome_texts(Tier(st.tier), st, content, lang)
            return t

    if q == "checkin_pain":
        if trend is None:
            if not st.reasked:
                st.reasked = True
                t.replies = [content.text(CHECKIN_REASK[q], lang)]
                return t
            t.flags.append("unparsed")
            st.trend = SAME  # still unclear: counts against them, never for them
            t.checkin_answer = {"id": st.checkin_id, "pain_score": None, "trend": SAME}
        st.pending, st.reasked = "checkin_signs", False
        t.replies = [content.text("checkin.signs", lang)]
        return t

    # checkin_signs
    if answer == YES:
        _raise(st, Tier.URGENT, ["F08"])
    elif answer != NO:
        if not st.reasked:
            st.reasked = True
            t.replies = [content.text(CHECKIN_REASK[q], lang)]
            return t
        t.flags.append("unparsed")
        _raise(st, Tier.URGENT, ["F03"])  # as for any warning-sign list left unclear
    return _checkin_finish(t, content, lang, raised=answer != NO)


def _checkin_finish(t: Transition, content: Content, lang: str, raised: bool) -> Transition:
    """Close the check-in: the tier the answers now reach, and what to do about it."""
    st = t.state
    st.phase, st.pending = "done", None
    facts = st.facts()
    resolved = bool(st.scores) and st.scores[-1] == 0
    if resolved:  # no pain left: the duration rules no longer apply
        facts = replace(facts, weeks=None)
    assessment = evaluate(facts, disabled=content.disabled_rules, raised=content.raised)
    tier, reasons = assessment.tier, list(assessment.rule_ids)
    if st.trend == WORSE and tier < Tier.SOON:
        tier, reasons = Tier.SOON, ["F08"]
    if tier > st.tier or raised:
        _raise(st, tier, reasons if tier > Tier.ROUTINE else [])
        t.outcome = Assessment(Tier(st.tier), tuple(st.reasons))
    if st.tier >= Tier.URGENT and (raised or st.trend != BETTER):
        t.replies = _outcome_texts(Tier(st.tier), st, content, lang)
    elif st.trend == WORSE:
        t.replies = [content.text("checkin.worse", lang)]
    elif (facts.weeks or 0) >= 6:
        # S01: pain still there at 6 weeks, even if easing, is checked by a provider - also for
        # someone whose tier was already SOON or higher (no new outcome, same advice).
        t.replies = [content.text("checkin.see_provider", lang)]
    elif (t.outcome is not None or st.checkin_kind == "booked") and st.tier >= Tier.SOON:
        # A new SOON (e.g. S09: 50+ and not improving), or "did you book?" answered only with
        # news of the pain: the advice again, so nobody is left without the booking prompt.
        t.replies = _outcome_texts(Tier(st.tier), st, content, lang)
    elif st.trend == BETTER:
        t.replies = [content.text("checkin.better", lang)]
    else:
        t.replies = [content.text("checkin.same", lang)]
    return t
