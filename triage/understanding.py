"""Understanding what people text: symptoms (with negation), yes/no, numbers, keywords, language.

Pure functions, no Django and no database, so they are fast to test table by table. The
vocabulary lives in `lexicon.py`; staff can add phrases per symptom from admin, which arrive here
as `extra_phrases`.

How a text is read:
1. normalise: Unicode NFKC, any script's digits to ASCII, lower case, accents and apostrophes
   removed, texting shorthand expanded, typos corrected towards the symptom vocabulary;
2. multi-word expressions whose negation word belongs to the symptom ("can't feel", "no
   control", "no puedo") become single tokens;
3. symptom terms are found; a term is denied when a negation cue stands a few words before it
   in the same clause ("no numbness, no weakness"), and a sensation pairs with a body part in
   the same clause, or in the same sentence when its own clause names no other body part
   ("no pain in my legs but they are numb").
Over-triage is acceptable, under-triage is not: when in doubt the reading keeps the symptom.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from triage import defaults, lexicon
from triage.rules import EMERGENCY_SYMPTOMS

Phrase = tuple[str, ...]

YES, NO, UNSURE = "yes", "no", "unsure"
BETTER, SAME, WORSE = "better", "same", "worse"


@dataclass(frozen=True)
class Analysis:
    text: str
    tokens: tuple[str, ...]
    present: frozenset[str]
    negated: frozenset[str]
    language: str | None
    intent: str | None
    uncertain: bool = False
    weeks: float | None = None
    pain_score: int | None = None
    trend: str | None = None


# ---------------------------------------------------------------- normalisation

_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'", "ʼ": "'"})
_TOKEN_RE = re.compile(r"[a-z0-9]+|[.!?;,:\n]")
SENTENCE_ENDS = frozenset(".!?;\n")
CLAUSE_PUNCT = frozenset(",:")


def fold(text: str) -> str:
    """Lower-case ASCII-ish form: digits of any script as 0-9, accents and apostrophes gone."""
    text = text or ""
    if text.isascii():
        # Most texts: the Unicode steps below change nothing here but "`" (an apostrophe), and
        # took about a third of the time spent reading a text.
        return text.lower().replace("`", "").replace("'", "").replace("&", " and ")
    text = unicodedata.normalize("NFKC", text).translate(_APOSTROPHES)
    out = []
    for ch in text:
        if ch.isdigit() and not ch.isascii():
            try:
                ch = str(unicodedata.digit(ch))
            except (TypeError, ValueError):
                ch = " "
        out.append(ch)
    text = unicodedata.normalize("NFD", "".join(out).lower())
    text = "".join(c for c in text if unicodedata.category(c) != "Mn")
    text = text.replace("'", "").replace("&", " and ")
    return text


def _vocabulary() -> frozenset[str]:
    words: set[str] = set()
    for phrases in list(lexicon.CLASSES.values()) + list(lexicon.PHRASES.values()):
        for phrase in phrases:
            words.update(phrase.split())
    for source in (lexicon.REWRITES, lexicon.SHORTHAND):
        for key, value in source.items():
            words.update(key.split())
            words.update(value.split())
    words.update(lexicon.NEGATION_CUES, lexicon.SCOPE_BREAKS)
    return frozenset(words)


VOCAB = _vocabulary()


def _deletes(word: str, depth: int) -> set[str]:
    out = {word}
    frontier = {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1 :] for w in frontier for i in range(len(w))}
        out |= frontier
    return out


@lru_cache(maxsize=1)
def _typo_index() -> dict[str, frozenset[str]]:
    """SymSpell-style delete index over the symptom words of five letters or more."""
    index: dict[str, set[str]] = {}
    for word in VOCAB:
        if len(word) < 4 or not word.isalpha():
            continue
        for d in _deletes(word, 2 if len(word) >= 8 else 1):
            index.setdefault(d, set()).add(word)
    return {k: frozenset(v) for k, v in index.items()}


def _edit_distance(a: str, b: str) -> int:
    """Damerau-Levenshtein (optimal string alignment) distance."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[-1]


# No token longer than this is within two edits of a vocabulary word. Longer ones are never
# corrected, and must not be: their delete set grows with the cube of the length (a 1,600-letter
# word took 10 s and 2 GB).
_MAX_TYPO_LENGTH = max(len(word) for word in VOCAB) + 2


@lru_cache(maxsize=4096)
def correct_typo(token: str) -> str:
    """The symptom word a misspelt token most likely meant, or the token itself."""
    if not 5 <= len(token) <= _MAX_TYPO_LENGTH or not token.isalpha():
        return token
    if token in VOCAB or token in lexicon.COMMON_WORDS:
        return token
    index = _typo_index()
    limit = 2 if len(token) >= 8 else 1
    candidates: set[str] = set()
    for d in _deletes(token, limit):
        candidates |= index.get(d, frozenset())
    best, best_distance = token, limit + 1
    for cand in sorted(candidates):
        if cand[0] != token[0] and limit == 1:
            continue  # a first-letter slip on a short word is more often another word
        distance = _edit_distance(token, cand)
        if distance <= min(limit, 2 if len(cand) >= 8 else 1) and distance < best_distance:
            best, best_distance = cand, distance
    return best


def _rewrite_table() -> dict[str, list[tuple[Phrase, str]]]:
    table: dict[str, list[tuple[Phrase, str]]] = {}
    for src, dst in lexicon.REWRITES.items():
        words = tuple(src.split())
        table.setdefault(words[0], []).append((words, dst))
    for entries in table.values():
        entries.sort(key=lambda e: -len(e[0]))
    return table


_REWRITES = _rewrite_table()
_HELD_KEY_RE = re.compile(r"([a-z])\1{2,}")
_MAX_HELD_LENGTH = 40
_ANSWER_LEADS = frozenset({"no", "nope", "nah", "yes", "yeah", "yep", "si", "yup"})
# Only before these does an opening "no" answer a question rather than negate what follows:
# "no my legs are numb" is an answer, "no numbness" and Spanish "no me falta el aire" negate.
_NEW_STATEMENT = frozenset(
    {"i", "my", "im", "its", "it", "but", "the", "they", "just", "we", "she", "pero", "mis", "mi"}
)


# "my legs... theyre numb": dots in a row are a pause in a text message, not the end of a
# sentence (which would part the body from its symptom).
_ELLIPSIS_RE = re.compile(r"\.{2,}")


def tokenize(text: str) -> tuple[str, ...]:
    raw = _TOKEN_RE.findall(_ELLIPSIS_RE.sub(",", fold(text)))
    tokens: list[str] = []
    for tok in raw:
        # "weeeak", "breathhh", "legsss": a held key leaves at most two, which the shorthand
        # and the typo corrector then read ("weeak" -> weak). A very long token is no word.
        if len(tok) <= _MAX_HELD_LENGTH:
            tok = _HELD_KEY_RE.sub(r"\1\1", tok)
        expanded = lexicon.SHORTHAND.get(tok)
        if expanded:
            tokens.extend(expanded.split())
        else:
            tokens.append(correct_typo(tok))
    tokens = _split_amounts(tokens)
    # "No my legs are numb": a bare answer word opening a text is its own clause.
    if len(tokens) > 1 and tokens[0] in _ANSWER_LEADS and tokens[1] in _NEW_STATEMENT:
        tokens.insert(1, ",")
    for _ in range(3):  # rewrites can feed each other ("cannot feel" -> "cant feel" -> "cantfeel")
        tokens, changed = _apply_rewrites(tokens)
        if not changed:
            break
    return tuple(tokens)


# "lost 10kg", "down 15lbs": the amount and its unit read as two words, so the unit is seen.
_NUMBER_UNIT_RE = re.compile(r"^(\d+)(kg|kgs|kilos?|lbs?|pounds?|st|stone)$")


def _split_amounts(tokens: list[str]) -> list[str]:
    out: list[str] = []
    for tok in tokens:
        m = _NUMBER_UNIT_RE.match(tok)
        out.extend(m.groups() if m else (tok,))
    return out


def _apply_rewrites(tokens: list[str]) -> tuple[list[str], bool]:
    out: list[str] = []
    i, changed = 0, False
    while i < len(tokens):
        for words, dst in _REWRITES.get(tokens[i], ()):
            if tuple(tokens[i : i + len(words)]) == words:
                out.extend(dst.split())
                i += len(words)
                changed = True
                break
        else:
            out.append(tokens[i])
            i += 1
    return out, changed


# ---------------------------------------------------------------- term matching


@dataclass(frozen=True)
class Hit:
    label: str  # a class name ("LEG") or a symptom key ("fever")
    start: int
    end: int
    negated: bool
    sentence: int
    clause: int


def _build_index(
    extra: Mapping[str, Iterable[str]] | None,
) -> dict[str, list[tuple[Phrase, str]]]:
    index: dict[str, list[tuple[Phrase, str]]] = {}

    def add(phrase: str, label: str) -> None:
        words = tokenize(phrase)
        words = tuple(w for w in words if w not in SENTENCE_ENDS | CLAUSE_PUNCT)
        if words:
            index.setdefault(words[0], []).append((words, label))

    for name, phrases in lexicon.CLASSES.items():
        for phrase in phrases:
            add(phrase, name)
    for key, phrases in lexicon.PHRASES.items():
        for phrase in phrases:
            add(phrase, key)
    for key, phrases in (extra or {}).items():
        for phrase in phrases:
            if phrase.strip():
                add(phrase, key)
    return index


@lru_cache(maxsize=32)
def _cached_index(extra_key: tuple[tuple[str, tuple[str, ...]], ...]):
    return _build_index(dict(extra_key))


class _LastBuilt:
    """`build(mapping)`, kept with the mapping it was built from and reused while the same
    object comes back. The content's mappings (staff keywords, extra phrases) are the same
    objects for every text until staff edit something, which builds a new Content; they are
    never changed in place. Building the lru caches' keys from them (every keyword in a
    frozenset) on each text cost more than the lookups. The (mapping, built) pair is replaced
    whole, so threads never see a mapping with another's table."""

    def __init__(self, build: Callable[[Any], Any]) -> None:
        self._build = build
        self._last: tuple[object, Any] = (object(), None)

    def __call__(self, mapping: Any) -> Any:
        last = self._last
        if mapping is not None and last[0] is mapping:
            return last[1]
        built = self._build(mapping)
        self._last = (mapping, built)
        return built


_index_for = _LastBuilt(
    lambda extra: _cached_index(tuple(sorted((k, tuple(v)) for k, v in (extra or {}).items())))
)


_CLAUSE_MARKERS = frozenset(
    """i im my me am is are was were its it they he she we feel feels felt have has had
    got but now and tengo tiene estoy esta estan siento mis mi pero ya ahora""".split()
)


_BODY_WORDS = frozenset(
    w
    for name in ("LEG", "SADDLE", "ARM_FACE", "CHEST")
    for p in lexicon.CLASSES[name]
    for w in p.split()
)


def _structure(tokens: tuple[str, ...]) -> tuple[list[int], list[int]]:
    """Sentence and clause number of every token."""
    sentences, clauses = [], []
    s = c = 0
    n = len(tokens)
    for i, tok in enumerate(tokens):
        if tok in SENTENCE_ENDS:
            s += 1
            c += 1
        elif tok in CLAUSE_PUNCT:
            # A comma inside a list keeps the clause ("no fever, chills or sweats"); a comma
            # before a new statement ("no numbness, my legs are weak") ends it.
            j = i + 1
            segment = []
            while j < n and tokens[j] not in SENTENCE_ENDS | CLAUSE_PUNCT:
                segment.append(tokens[j])
                j += 1
            if not segment or any(w in _CLAUSE_MARKERS or w in _BODY_WORDS for w in segment):
                c += 1
        elif tok in lexicon.SCOPE_BREAKS:
            c += 1
        sentences.append(s)
        clauses.append(c)
    return sentences, clauses


def _find_hits(tokens: tuple[str, ...], index) -> list[Hit]:
    sentences, clauses = _structure(tokens)
    hits: list[Hit] = []
    for i, tok in enumerate(tokens):
        for words, label in index.get(tok, ()):
            if tuple(tokens[i : i + len(words)]) != words:
                continue
            hits.append(
                Hit(
                    label, i, i + len(words), _negated(tokens, clauses, i), sentences[i], clauses[i]
                )
            )
    return hits


NEGATION_WINDOW = 6

# "dont text me i wet myself", "no more texts i cant feel my legs": the "no" refuses the texts,
# it does not deny what follows (which would hide the emergency behind the STOP).
_MESSAGING = frozenset(
    """text texts txt txts message messages msg msgs sms contact mensajes mensaje textos msjs
    manden envien escriban mandes envies escribas mande envie""".split()
)


def _asks_for_no_texts(tokens: tuple[str, ...], j: int) -> bool:
    after = tokens[j + 1 : j + 4]
    if any(t in _MESSAGING for t in after):
        return True
    return after[:1] == ("more",) and after[1:2] in (("i",), ("im",), ("my",))


def _negated(tokens: tuple[str, ...], clauses: list[int], i: int) -> bool:
    clause = clauses[i]
    seen = 0
    j = i - 1
    while j >= 0 and clauses[j] == clause and seen < NEGATION_WINDOW:
        tok = tokens[j]
        if tok in lexicon.NEGATION_CUES and not _asks_for_no_texts(tokens, j):
            return True
        if tok not in CLAUSE_PUNCT:
            seen += 1
        j -= 1
    return False


class _Hits:
    """Hits grouped by label, with the pairing rules the recogniser needs."""

    BODY = ("LEG", "SADDLE", "ARM_FACE", "BACK", "CHEST")

    def __init__(self, hits: list[Hit], n_tokens: int):
        self.by_label: dict[str, list[Hit]] = {}
        for h in hits:
            self.by_label.setdefault(h.label, []).append(h)
        self.n_tokens = n_tokens

    def get(self, *labels: str) -> list[Hit]:
        return [h for label in labels for h in self.by_label.get(label, ())]

    def positive(self, *labels: str) -> list[Hit]:
        return [h for h in self.get(*labels) if not h.negated]

    def any_positive(self, *labels: str) -> bool:
        return bool(self.positive(*labels))

    def denied(self, *labels: str) -> bool:
        hits = self.get(*labels)
        return bool(hits) and all(h.negated for h in hits)

    def pair(self, sensations: tuple[str, ...], body: str) -> bool:
        """A non-denied sensation that belongs to `body` (see module docstring)."""
        bodies = self.get(body)
        if not bodies:
            return False
        others = [h for h in self.get(*self.BODY) if h.label != body]
        for s in self.positive(*sensations):
            if any(b.clause == s.clause for b in bodies):
                return True
            same_sentence = any(b.sentence == s.sentence for b in bodies)
            own_clause_names_other = any(o.clause == s.clause for o in others)
            if same_sentence and not own_clause_names_other:
                return True
        return False

    def near(self, a: tuple[str, ...], b: tuple[str, ...], scope: str = "sentence") -> bool:
        """A non-denied `a` with any `b` in the same clause or sentence."""
        bs = self.get(*b)
        for h in self.positive(*a):
            for o in bs:
                if (scope == "clause" and o.clause == h.clause) or (
                    scope == "sentence" and o.sentence == h.sentence
                ):
                    return True
        return False


def _symptoms(h: _Hits) -> tuple[set[str], set[str]]:
    present: set[str] = set()
    negated: set[str] = set()
    short = h.n_tokens <= 8  # a short answer ("at night") is about the pain we asked about

    # Symptom keys are lower case, word classes upper case; staff phrases (admin) may name any key.
    for key in [label for label in h.by_label if label.islower()]:
        hits = h.get(key)
        if not hits:
            continue
        if key in lexicon.NEVER_NEGATED or any(not x.negated for x in hits):
            present.add(key)
        else:
            negated.add(key)

    def mark(key: str, fired: bool, denied: bool = False) -> None:
        if fired:
            present.add(key)
        elif denied:
            negated.add(key)

    mark("leg_numbness_tingling", h.pair(("NUMB",), "LEG"), h.denied("NUMB"))
    mark("saddle_numbness", h.pair(("NUMB",), "SADDLE"), h.denied("NUMB"))
    mark("leg_weakness", h.pair(("WEAK",), "LEG"), h.denied("WEAK"))
    mark("sudden_arm_or_leg_weakness", h.pair(("NUMB", "WEAK"), "ARM_FACE"))
    mark("heart_attack_signs", h.pair(("CHEST_PAIN",), "CHEST"), h.denied("CHEST_PAIN"))

    if h.any_positive("BREATH_SEVERE"):
        present.add("sudden_severe_breathlessness")
    for mild in h.positive("BREATH_MILD"):
        same = [x for x in h.get("AT_REST", "EXERTION") if x.sentence == mild.sentence]
        if any(x.label == "AT_REST" for x in same):
            present.add("breathless_at_rest")
        elif same:
            present.add("shortness_of_breath")
        else:
            present.add("sudden_severe_breathlessness")
    if h.denied("BREATH_SEVERE", "BREATH_MILD"):
        negated.add("sudden_severe_breathlessness")
    if "heart_attack_signs" in present and present & {
        "sudden_severe_breathlessness",
        "breathless_at_rest",
        "shortness_of_breath",
    }:
        present.add("chest_pain_with_sob")

    for blood in h.positive("BLOOD"):
        if any(c.sentence == blood.sentence for c in h.get("COUGH")):
            small = any(s.sentence == blood.sentence for s in h.positive("SMALL_AMOUNT"))
            present.add("coughing_blood_streaks" if small else "coughing_blood_large")
    if h.denied("BLOOD") and h.get("COUGH"):
        negated.update({"coughing_blood_large", "coughing_blood_streaks"})

    if "tearing_pain_sudden" in present and h.get("MUSCLE_TEAR"):
        present.discard("tearing_pain_sudden")  # "tore a muscle lifting" is a strain
    mark(
        "tearing_pain_sudden",
        h.near(("SEVERE",), ("SUDDEN",)) and h.any_positive("PAINWORD", "SEVERE"),
    )

    if h.near(("NOCONTROL",), ("BLADDER_BOWEL",)):
        present.add("bladder_bowel_control_loss")
    if h.near(("URINE_DIFFICULT",), ("URINE",)):
        present.add("trouble_urinating")
    if h.near(("WEIGHT_DROP",), ("WEIGHT_UNIT",), "clause") and not h.any_positive("DIET"):
        present.add("weight_loss_unintentional")
    if h.near(("INFECTION",), ("REPEAT",)) or len(h.positive("INFECTION")) > 1:
        present.add("recurrent_chest_infections")
    if short and h.any_positive("WEAK") and not h.get(*h.BODY):
        present.add("leg_weakness")  # "weakness" answering our question about the legs
    if short and h.any_positive("NUMB_ALONE") and not h.get(*h.BODY):
        present.add("leg_numbness_tingling")  # "i have pins and needles", "im numb"
    # Someone else's heart attack, or an accident years ago, is history, not today's emergency.
    context = h.get("FAMILY", "LONG_AGO")
    for key in ("heart_attack_signs", "major_trauma"):
        hits = [x for x in h.get(key) if not x.negated]
        if hits and all(any(c.clause == x.clause for c in context) for x in hits):
            present.discard(key)
    mark("fever", h.any_positive("FEVER"), h.denied("FEVER"))
    if h.any_positive("FEVER") and h.any_positive("CONFUSED", "SEPSIS_OTHER"):
        present.add("sepsis_signs")

    def pain_context(labels: tuple[str, ...], exclude: tuple[str, ...] = ()) -> bool:
        for x in h.positive(*labels):
            if any(e.clause == x.clause for e in h.get(*exclude)):
                continue
            if short or any(p.sentence == x.sentence for p in h.get("PAINWORD", "CHEST_PAIN")):
                return True
        return False

    mark(
        "night_pain", pain_context(("NIGHT",)) or h.any_positive("NIGHT_STRONG"), h.denied("NIGHT")
    )
    mark("worse_lying_in_bed", pain_context(("LYING",), ("BETTER_WORDS",)), h.denied("LYING"))
    mark("pain_at_rest", pain_context(("REST",), ("BETTER_WORDS",)))
    mark("pain_cough_strain", h.near(("COUGH_STRAIN",), ("PAINWORD",), "clause"))
    mark("pain_deep_breath", h.near(("DEEP_BREATH",), ("PAINWORD", "CHEST_PAIN"), "sentence"))
    mark("lump_or_deformity", h.any_positive("LUMP"), h.denied("LUMP"))
    mark("severe_pain", h.near(("SEVERE",), ("PAINWORD",), "clause"))
    mark(
        "not_responding_to_treatment",
        h.near(("TREATMENT",), ("FAILED",)) or h.near(("FAILED",), ("TREATMENT",)),
    )
    mark("persistent_cough", h.near(("COUGH",), ("CHRONIC",)))
    mark("spreading_ribs_chest_shoulder", h.near(("SPREADS",), ("RIBS_SHOULDER",), "clause"))
    if "lower_back" in present and "upper_back" not in present and h.get("UPPER_HINT"):
        present.add("upper_back")
    if present & {"no_clear_cause"} and "clear_mechanical_cause" in present:
        present.discard("clear_mechanical_cause")
    return present, negated - present


# ---------------------------------------------------------------- keywords and language

OPT_OUT_WORDS = frozenset(
    """stop stopall unsubscribe cancel end quit revoke optout baja alto parar cancelar
    detener""".split()
)
OPT_IN_WORDS = frozenset({"start", "unstop", "subscribe", "resume"})
HELP_WORDS = frozenset({"help", "info", "ayuda", "informacion"})
RESTART_WORDS = frozenset({"restart", "reset", "reiniciar", "reinicio"})
LANG_WORDS = {"english": "lang_en", "ingles": "lang_en", "spanish": "lang_es", "espanol": "lang_es"}
_FILLER = frozenset(
    """please pls thanks thank you now all me it right away por favor ya gracias""".split()
)
_OPT_OUT_PATTERNS = tuple(
    re.compile(p)
    for p in (
        r"\bstop (texting|messaging|sending|contacting|txting|msging|writing|text|message)",
        r"\b(dont|do not|never) (text|message|txt|msg|contact|sms) me\b",
        r"\bno more (texts|messages|msgs|txts|sms)\b",
        r"\b(remove|delete|take) me (off|from)\b",
        r"^(please )?remove me\b",
        r"\bunsubscribe\b",
        r"\bopt (me )?out\b",
        r"\bleave me alone\b",
        r"\b(ya )?no quiero (recibir )?(mas )?(mensajes|textos|sms|msjs)",
        r"\bno (me )?(manden|envien|escriban|mandes|envies|escribas|mande|envie)\b",
        r"\b(dejen|deja|dejar) de (escribirme|mandarme|enviarme|mensajearme|molestarme)",
        r"\bno mas (mensajes|textos|sms)\b",
        r"\b(darme|dame|denme|quiero darme) de baja\b",
        r"\b(borrame|sacame|quitenme|eliminenme)\b",
    )
)
_RESTART_PATTERNS = tuple(
    re.compile(p)
    for p in (
        r"^(please )?(start (over|again|a new check)|new check|begin again)\b",
        r"^(empezar|comenzar|empecemos|volver a empezar)( de nuevo| otra vez)?\b",
    )
)


_EMERGENCY_KEYS = frozenset().union(*EMERGENCY_SYMPTOMS.values())


def _keyword_core(tokens: Iterable[str]) -> str:
    """A text or keyword as intents compare it: its words without punctuation and fillers."""
    words = [t for t in tokens if t not in SENTENCE_ENDS | CLAUSE_PUNCT]
    return " ".join([w for w in words if w not in _FILLER] or words)


@lru_cache(maxsize=32)
def _keyword_table(custom: frozenset[tuple[str, str]]) -> dict[str, str]:
    """Staff keywords read exactly as a text is, so "Don't text me!", "UNSUBSCRIBE" or "can’t"
    match what a person types. Cached by the keyword set: a text costs one lookup."""
    table: dict[str, str] = {}
    # Two phrases that read the same: STOP wins, as opting out must always work.
    for phrase, action in sorted(custom, key=lambda pa: (pa[1] != "opt_out", pa)):
        key = _keyword_core(tokenize(phrase))
        if key:
            table.setdefault(key, action)
    return table


_keywords_for = _LastBuilt(lambda keywords: _keyword_table(frozenset((keywords or {}).items())))


def detect_intent(
    tokens: tuple[str, ...], raw: str, keywords: Mapping[str, str] | None = None
) -> str | None:
    words = [t for t in tokens if t not in SENTENCE_ENDS | CLAUSE_PUNCT]
    if not words:
        return None
    core = [w for w in words if w not in _FILLER] or words
    joined = " ".join(core)
    custom = _keywords_for(keywords)
    if joined in custom:
        return custom[joined]
    if joined in ("opt out", "stop all", "end all", "opt-out"):
        return "opt_out"
    # A keyword standing alone, or opening the text before a break ("STOP. my legs are numb").
    first = words[0]
    alone = len(core) == 1
    opens = len(tokens) > 1 and tokens[1] in SENTENCE_ENDS | CLAUSE_PUNCT
    # "STOP my legs are numb": a keyword shouted first is a keyword, whatever follows.
    first_raw = (raw or "").strip().split(maxsplit=1)[0] if (raw or "").strip() else ""
    shouted = first_raw.strip(".!,:;").isupper() and len(first_raw.strip(".!,:;")) >= 3
    if first in OPT_OUT_WORDS and (alone or opens or shouted):
        return "opt_out"
    if alone and core[0] in OPT_OUT_WORDS:
        return "opt_out"
    plain = " ".join(words)
    if any(p.search(plain) for p in _OPT_OUT_PATTERNS):
        return "opt_out"
    if alone and core[0] in OPT_IN_WORDS:
        return "opt_in"
    if alone and core[0] in HELP_WORDS or joined in ("help me", "i need help", "need help"):
        return "help"
    if alone and core[0] in RESTART_WORDS or any(p.search(plain) for p in _RESTART_PATTERNS):
        return "restart"
    if len(core) <= 3 and any(w in LANG_WORDS for w in core):
        return next(LANG_WORDS[w] for w in core if w in LANG_WORDS)
    return None


_ES_MARKERS = frozenset(
    """el la los las de del que en me mi mis tengo tiene duele duelen dolor espalda piernas
    pierna pecho hola gracias por para con sin muy desde hace semanas semana dias dia pero
    esta estoy es un una como cuando ayuda mucho poco nada siento puedo nopuedo nosiento
    si sip claro bien mal mejor peor igual ya hoy ayer anoche noche manana cuello brazo
    tambien porque quiero ninguno ninguna orinar respirar sangre fiebre cancer bajo baja
    arriba abajo otra vez hombro omoplato y o ni meses mes anos lado derecho izquierdo
    llamen llama ambulancia auxilio emergencia necesito urgente""".split()
)
_EN_MARKERS = frozenset(
    """the and my i is are have has pain back legs leg chest hurts hurt it of to in with yes
    hi hello help since weeks week days day but can cant not no dont its this that been
    feel feels like really very bad worse better same about after when what how much
    started yesterday today night am was just some get got go going lower upper shoulder
    nope yeah yep ok okay thanks numb weak months breathe breath blood fever pee""".split()
)
_ES_CHARS = re.compile(r"[áéíóúñ¿¡ü]", re.IGNORECASE)


def detect_language(text: str, tokens: tuple[str, ...]) -> str | None:
    es = sum(1 for t in tokens if t in _ES_MARKERS) + 2 * len(_ES_CHARS.findall(text or ""))
    en = sum(1 for t in tokens if t in _EN_MARKERS and t != "no")
    es -= sum(1 for t in tokens if t in _ES_MARKERS and t in _EN_MARKERS)
    if es > en and es >= 1:
        return "es"
    if en > es and en >= 1:
        return "en"
    return None


# ---------------------------------------------------------------- answers

_UNSURE = frozenset({"unsure", "perhaps", "possibly", "hmm", "hm"})
_YES_EMOJI = ("👍", "✅", "✔", "👌")
_NO_EMOJI = ("👎", "❌", "✖", "🚫")


def parse_yes_no(text: str, words: Mapping[str, str] | None = None) -> str | None:
    """YES, NO or UNSURE for a reply to a yes/no question; None when it says neither.

    "a little", "sometimes", "kind of" count as yes: for a warning sign, partly is yes.
    `words` are the admin-editable answer words (phrase -> yes/no/unsure).
    """
    raw = text or ""
    if any(e in raw for e in _YES_EMOJI) and not any(e in raw for e in _NO_EMOJI):
        return YES
    if any(e in raw for e in _NO_EMOJI):
        return NO
    tokens = [t for t in tokenize(raw) if t not in SENTENCE_ENDS | CLAUSE_PUNCT]
    if not tokens:
        return None
    joined = " ".join(tokens)
    if "unsure" in tokens[:4] or tokens[0] in _UNSURE:
        return UNSURE
    # "no, only sometimes": partly is yes for a warning sign.
    if any(
        p in f" {joined} "
        for p in (
            " sometimes ",
            " a veces ",
            " a little ",
            " a bit ",
            " kinda ",
            " kind of ",
            " un poco ",
            " mas o menos ",
        )
    ):
        return YES
    # Answer words come after the safety readings above, which they must not override.
    for phrase, meaning in _answer_table(frozenset((words or {}).items())):
        if joined == phrase or joined.startswith(phrase + " "):
            return meaning
    return None


@lru_cache(maxsize=32)
def _answer_table(custom: frozenset[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """Answer phrases as read (tokenised), longest first ("i do not" before "i do").

    The defaults are the same ones the data migration installs, so they stay a floor when a row
    is deleted in admin; staff's words are laid over them.
    """
    table: dict[str, str] = {}
    pairs = [
        (p, m)
        for by_meaning in defaults.ANSWER_WORDS.values()
        for m, phrases in by_meaning.items()
        for p in phrases
    ]
    for phrase, meaning in [*pairs, *custom]:
        key = " ".join(t for t in tokenize(phrase) if t not in SENTENCE_ENDS | CLAUSE_PUNCT)
        if key:
            table[key] = meaning
    return tuple(sorted(table.items(), key=lambda kv: -len(kv[0])))


_NUMBER_WORDS = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "a": 1,
    "an": 1,
    "couple": 2,
    "few": 3,
    "several": 3,
    "cero": 0,
    "uno": 1,
    "un": 1,
    "una": 1,
    "dos": 2,
    "tres": 3,
    "cuatro": 4,
    "cinco": 5,
    "seis": 6,
    "siete": 7,
    "ocho": 8,
    "nueve": 9,
    "diez": 10,
    "once": 11,
    "doce": 12,
    "par": 2,
    "unos": 3,
    "unas": 3,
    "varios": 3,
    "varias": 3,
}
_UNIT_WEEKS = {
    "day": 1 / 7,
    "days": 1 / 7,
    "d": 1 / 7,
    "dia": 1 / 7,
    "dias": 1 / 7,
    "week": 1,
    "weeks": 1,
    "w": 1,
    "wk": 1,
    "wks": 1,
    "semana": 1,
    "semanas": 1,
    "month": 4.345,
    "months": 4.345,
    "mo": 4.345,
    "mos": 4.345,
    "mes": 4.345,
    "meses": 4.345,
    "year": 52.18,
    "years": 52.18,
    "yr": 52.18,
    "ano": 52.18,
    "anos": 52.18,
    "hour": 1 / 168,
    "hours": 1 / 168,
    "hora": 1 / 168,
    "horas": 1 / 168,
}
_DURATION_RE = re.compile(
    r"(\d+(?:\.\d+)?|" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True)) + r")"
    r"(?:\s*(?:-|to|or|a|o)\s*(\d+))?\s*(?:of\s+|de\s+)?(?:more\s+|mas\s+)?"
    r"(" + "|".join(sorted(_UNIT_WEEKS, key=len, reverse=True)) + r")\b"
)
_RELATIVE_WEEKS = (
    (re.compile(r"\b(since )?(yesterday|today|this morning|ayer|hoy|anoche|esta manana)\b"), 1 / 7),
    (re.compile(r"\b(since )?last week\b|\bla semana pasada\b"), 1.0),
    (re.compile(r"\b(since )?last month\b|\bel mes pasado\b"), 4.345),
    (re.compile(r"\bages\b|\bforever\b|\bmucho tiempo\b"), 8.0),
)


def parse_weeks(text: str) -> float | None:
    """How many weeks a duration in free text amounts to ("about 3 weeks", "10 days")."""
    folded = fold(text)
    for m in _DURATION_RE.finditer(folded):
        low, high, unit = m.group(1), m.group(2), m.group(3)
        value = float(_NUMBER_WORDS.get(low, low) if not low.replace(".", "").isdigit() else low)
        if high:
            value = max(value, float(high))
        if unit in ("d", "w", "mo") and not re.search(r"\d\s*" + unit + r"\b", m.group(0)):
            continue  # bare letters only count glued to a number ("3w")
        return round(value * _UNIT_WEEKS[unit], 2)
    for pattern, weeks in _RELATIVE_WEEKS:
        if pattern.search(folded):
            return weeks
    return None


_SCORE_RE = re.compile(r"(?<![\d.])(10|\d)(?:\.\d)?\s*(?:/|out of|of|de)\s*10\b")
_BARE_NUMBER_RE = re.compile(r"(?<![\d.,/])(\d{1,3})(?![\d.,]*\s*(?:/|%))")


def parse_pain_score(text: str) -> int | None:
    """Pain 0-10: "7/10", "7 out of 10", "about a 7", "siete", "7-8" (the higher)."""
    folded = fold(text)
    m = _SCORE_RE.search(folded)
    if m:
        return int(m.group(1))
    without_durations = _DURATION_RE.sub(" ", folded)
    without_durations = re.sub(r"\b\d+\s*(years? old|yo|y/o|anos|yrs)\b", " ", without_durations)
    range_m = re.search(r"\b(\d{1,2})\s*(?:-|to|or|a|o)\s*(\d{1,2})\b", without_durations)
    if range_m and int(range_m.group(2)) <= 10:
        return max(int(range_m.group(1)), int(range_m.group(2)))
    for m in _BARE_NUMBER_RE.finditer(without_durations):
        value = int(m.group(1))
        if 0 <= value <= 10:
            return value
    for tok in tokenize(without_durations):
        if tok in _NUMBER_WORDS and tok not in (
            "a",
            "an",
            "un",
            "una",
            "few",
            "couple",
            "par",
            "unos",
            "unas",
            "several",
            "varios",
            "varias",
        ):
            value = _NUMBER_WORDS[tok]
            if value <= 10:
                return value
    return None


_AGE_RES = (
    re.compile(r"\b(\d{1,3})\s*(?:years? old|yrs? old|yo|y o|anos de edad|anos|años)\b"),
    re.compile(r"\b(?:i am|im|age|aged|tengo|edad)\s*:?\s*(\d{1,3})\b"),
)


def parse_age(text: str) -> int | None:
    """Age in years: "I'm 45", "52 years old", "tengo 52 años", or a number beside a duration."""
    folded = fold(text)
    for pattern in _AGE_RES:
        m = pattern.search(folded)
        if m and 1 <= int(m.group(1)) <= 120:
            return int(m.group(1))
    m = re.search(r"\b(\d{1,3})\b", _DURATION_RE.sub(" ", folded))
    if m and 1 <= int(m.group(1)) <= 120:
        return int(m.group(1))
    return None


# "1 day, no idea, 52" answers "how long, how did it start, how old?": once the duration and
# the age are taken out, what is left says the person does not know what started it, which is
# the "no clear reason" answer (and the safer one: U09 counts it as a red flag). Only these
# explicit phrases count; "maybe" or "i think" qualify another answer rather than this one.
_CAUSE_UNKNOWN_RE = re.compile(
    r"^(?:(?:honestly|really|tbh|um+|hmm+|well|pues|bueno|la verdad|sinceramente)\s+)*"
    r"(?:i\s+)?(?:have\s+)?(?:no idea|idk|dunno|dont know|do not know|not sure|im not sure|"
    r"i am not sure|no clue|not a clue|unsure|who knows|not certain|ni idea|"
    r"no tengo (?:ni )?idea|no se|no lo se|no sabria(?: decir)?|quien sabe|no estoy segur[oa])"
    r"(?:\s+(?:why|how it started|what started it|what caused it|what happened|por que|"
    r"porque|como empezo|de que))?(?:\s+(?:really|tbh|lol|la verdad|de verdad))?$"
)
_AGE_NUMBER_RE = re.compile(r"(?<![\d./])\b(1[1-9]|[2-9]\d|1[01]\d|120)\b(?![./]\d|\s*/)")
_ANSWER_SPLIT_RE = re.compile(r"[,;.!?\n/]+|\s+(?:and|y)\s+")


# A text that is nothing but a call for help: "911", "SOS!!", "ambulance please", "necesito una
# ambulancia". No symptom is named, but nobody texts that about a sore back: it gets the
# emergency advice (E00), never the welcome. Only the whole text counts: "the emergency room
# said its a strain" or "is this an emergency?" are not calls.
_CALL_WORDS = frozenset(
    "911 999 112 sos emergency emergencia ambulance ambulancia auxilio mayday".split()
)
_CALL_FILLERS = frozenset(
    """please pls plz i need needs call calling get send me an a someone now urgent urgently
    help quick asap por favor necesito llamen llama llamar una un al ya ahora urgente
    ayuda""".split()
)


def says_emergency_call(text: str) -> bool:
    """The whole text calls for emergency help without naming a symptom: every word is a call
    word or a filler around one. Word by word, not one regular expression: an alternation over
    these words backtracked exponentially on a long run of fillers (found by tests/test_fuzz.py)."""
    words = re.findall(r"[a-z0-9]+", fold(text))
    if not words or len(words) > 12:
        return False
    return any(w in _CALL_WORDS for w in words) and all(
        w in _CALL_WORDS or w in _CALL_FILLERS for w in words
    )


def says_cause_unknown(text: str) -> bool:
    """True for a duration and/or age answer whose only other part is "no idea" / "ni idea"."""
    rest, found = fold(text), 0
    for pattern in (*_AGE_RES, _DURATION_RE, *(p for p, _ in _RELATIVE_WEEKS), _AGE_NUMBER_RE):
        rest, n = pattern.subn(" , ", rest)
        found += n
    if not found:
        return False
    parts = [p for p in (x.strip() for x in _ANSWER_SPLIT_RE.split(rest)) if p]
    parts = [p for p in parts if p not in ("ago", "hace", "desde", "since", "for", "about")]
    return bool(parts) and all(_CAUSE_UNKNOWN_RE.match(p) for p in parts)


_TREND_WORDS = {
    BETTER: frozenset(
        """better improving improved improves easing eased easier less mejor
        mejorando mejora mejorado notworse""".split()
    ),
    SAME: frozenset("""same unchanged stable steady igual mismo notbetter""".split()),
    WORSE: frozenset(
        """worse worsening worst increasing peor empeorando empeora empeorado
        keeps""".split()
    ),
}
_TREND_PHRASES = (
    ("no change", SAME),
    ("not changed", SAME),
    ("hasnt changed", SAME),
    ("about the same", SAME),
    ("sigue igual", SAME),
    ("lo mismo", SAME),
    ("cada vez peor", WORSE),
    ("mas fuerte", WORSE),
    ("getting worse", WORSE),
    ("going away", BETTER),
    ("a bit better", BETTER),
)


def parse_trend(text: str) -> str | None:
    """Better, same or worse than when it started. Worse beats same beats better when mixed."""
    return _trend(tokenize(text))


def _trend(tokens: tuple[str, ...]) -> str | None:
    joined = " ".join(tokens)
    found = {meaning for phrase, meaning in _TREND_PHRASES if phrase in joined}
    for meaning, words in _TREND_WORDS.items():
        if any(t in words for t in tokens):
            found.add(meaning)
    for meaning in (WORSE, SAME, BETTER):
        if meaning in found:
            return meaning
    return None


_OPTION_TOKEN_RE = re.compile(r"^[a-z]$")
_NONE_WORDS = frozenset(
    {
        "none",
        "no",
        "nope",
        "nothing",
        "nah",
        "neither",
        "ninguno",
        "ninguna",
        "nada",
        "0",
        "n",
        "non",
    }
)


def parse_options(text: str, letters: str) -> frozenset[str] | None:
    """Letters chosen from a list ("A C", "a,c", "ac", "1 3"); empty set for NONE; else None."""
    chosen = _parse_letters(fold(text), letters)
    if chosen is None:
        # "a, tos desde hace un mes": letters first, then an explanation
        head = re.match(r"^\s*((?:[a-z]\b[\s,&/]*)+?)\s*[,:;.\-]\s+\S", fold(text))
        if head:
            chosen = _parse_letters(head.group(1), letters)
    return chosen


def _parse_letters(folded: str, letters: str) -> frozenset[str] | None:
    folded = re.sub(r"\b(and|y|&|or|o|plus|also|tambien)\b", " ", folded)
    tokens = re.findall(r"[a-z0-9]+", folded)
    if not tokens:
        return None
    if (
        all(
            t in _NONE_WORDS
            or t in ("of", "them", "those", "these", "de", "esos", "esas", "the", "above")
            for t in tokens
        )
        and tokens[0] in _NONE_WORDS
    ):
        return frozenset()
    chosen: set[str] = set()
    for tok in tokens:
        if tok.isdigit() and 1 <= int(tok) <= len(letters):
            chosen.add(letters[int(tok) - 1])
        elif _OPTION_TOKEN_RE.match(tok) and tok.upper() in letters:
            chosen.add(tok.upper())
        elif (
            tok.isalpha()
            and len(tok) <= len(letters)
            and all(c.upper() in letters for c in tok)
            and len(set(tok)) == len(tok)
            and tok not in VOCAB
            and tok not in ("a", "i")
        ):
            chosen.update(c.upper() for c in tok)  # "ace" typed without spaces
        else:
            return None
    return frozenset(chosen) or None


# ---------------------------------------------------------------- the whole reading


# A fall with its height in numbers, which no word list can spell out ("fell about 12 ft off a
# ladder" is caught by "ladder" already; "fell 10 feet" only by its height).
_FALL_HEIGHT_RE = re.compile(
    r"\b(?:fell|fallen|fall|falling|cai|cayo|caida)\b(?:\s+[a-z]+){0,4}?\s+"
    r"(?:\d+|a few|several|two|three|four|five|six|ten|dos|tres|cuatro|cinco|seis|diez)\s*"
    r"(?:feet|foot|ft|metres|meters|metre|meter|m|storeys|stories|floors|metros|pisos)\b"
)


def analyze(
    text: str,
    *,
    extra_phrases: Mapping[str, Iterable[str]] | None = None,
    keywords: Mapping[str, str] | None = None,
) -> Analysis:
    text = (text or "")[:4000]
    tokens = tokenize(text)
    index = _index_for(extra_phrases)
    words = [t for t in tokens if t not in SENTENCE_ENDS | CLAUSE_PUNCT]
    hits = _Hits(_find_hits(tokens, index), len(words))
    present, negated = _symptoms(hits)
    folded = fold(text)
    score = parse_pain_score(text) if _SCORE_RE.search(folded) else None
    if score is not None and score >= 8:
        present.add("severe_pain")  # U11: "pain is 10/10"
    if says_cause_unknown(text):
        present.add("no_clear_cause")
    if _FALL_HEIGHT_RE.search(folded):
        present.add("major_trauma")  # E09: "fell 10 feet", "me cai de 3 metros"
    intent = detect_intent(tokens, text, keywords)
    if intent not in (None, "opt_out") and present & _EMERGENCY_KEYS:
        # A staff keyword that is also an emergency ("help i cant breathe" made HELP) must not
        # be answered as a keyword: the built-in reading decides. Opt-out keeps its keyword,
        # as the engine folds the emergency advice into the STOP confirmation.
        intent = detect_intent(tokens, text)
    return Analysis(
        text=text,
        tokens=tokens,
        present=frozenset(present),
        negated=frozenset(negated),
        language=detect_language(text, tokens),
        intent=intent,
        uncertain="unsure" in tokens,
        weeks=parse_weeks(text),
        pain_score=score,
        trend=_trend(tokens),
    )


def describe(analysis: Analysis) -> dict[str, object]:
    """A JSON-friendly summary, for transcripts and debugging."""
    return {
        "present": sorted(analysis.present),
        "negated": sorted(analysis.negated),
        "language": analysis.language,
        "intent": analysis.intent,
        "weeks": analysis.weeks,
        "trend": analysis.trend,
    }


__all__ = [
    "Analysis",
    "analyze",
    "describe",
    "detect_intent",
    "detect_language",
    "fold",
    "parse_age",
    "parse_options",
    "parse_pain_score",
    "parse_trend",
    "parse_weeks",
    "parse_yes_no",
    "says_cause_unknown",
    "tokenize",
    "YES",
    "NO",
    "UNSURE",
    "BETTER",
    "SAME",
    "WORSE",
]
