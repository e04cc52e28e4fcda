"""The red-flag rule table of ../shared/clinical/rules.md as code: facts in, tier and rule ids out.

Pure: no Django, no database. The conditions are code (they combine facts: "cancer history AND
band-like pain"); the wording, citations, on/off switch and any raised tier are content in the
database (`triage.models.Rule`) and reach `evaluate` as `disabled` and `raised`.

Safety floor: EMERGENCY rules cannot be disabled, and no rule can be lowered below the tier the
table gives it. `evaluate` enforces both whatever it is passed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum


class Tier(IntEnum):
    ROUTINE = 0  # self-care advice and check-ins
    SOON = 1  # book a provider appointment within 1-2 weeks
    URGENT = 2  # speak to a clinician today, be seen within 24-48 h
    EMERGENCY = 3  # call 911/999 or go to the ER now

    @classmethod
    def parse(cls, value: str | int | Tier) -> Tier:
        if isinstance(value, Tier):
            return value
        if isinstance(value, int):
            return cls(value)
        return cls[value.upper()]


# rule id -> (tier, symptom keys that trigger it on their own)
EMERGENCY_SYMPTOMS: dict[str, frozenset[str]] = {
    "E01": frozenset({"leg_weakness"}),
    "E02": frozenset({"leg_numbness_tingling", "saddle_numbness"}),
    "E03": frozenset({"trouble_urinating", "bladder_bowel_control_loss"}),
    "E04": frozenset({"sudden_arm_or_leg_weakness"}),
    "E05": frozenset({"heart_attack_signs"}),
    "E06": frozenset({"chest_pain_with_sob", "sudden_severe_breathlessness"}),
    "E07": frozenset({"coughing_blood_large"}),
    "E08": frozenset({"tearing_pain_sudden"}),
    "E09": frozenset({"major_trauma"}),
    "E11": frozenset({"sepsis_signs"}),
    "E12": frozenset({"mental_health_crisis"}),
}
URGENT_SYMPTOMS: dict[str, frozenset[str]] = {
    "U01": frozenset({"cancer_history"}),
    "U02": frozenset({"coughing_blood_streaks"}),
    "U03": frozenset({"fever"}),
    "U04": frozenset({"weight_loss_unintentional"}),
    "U05": frozenset({"pain_at_rest", "night_pain", "worse_lying_in_bed"}),
    "U06": frozenset({"pain_cough_strain"}),
    "U07": frozenset({"pain_deep_breath"}),
    "U10": frozenset({"lump_or_deformity"}),
    "U11": frozenset({"severe_pain"}),
    "U12": frozenset({"breathless_at_rest"}),
}
SOON_SYMPTOMS: dict[str, frozenset[str]] = {
    "S02": frozenset({"not_responding_to_treatment"}),
    "S03": frozenset({"persistent_cough"}),
    "S04": frozenset({"shortness_of_breath"}),
    "S05": frozenset({"fatigue_chronic"}),
    "S06": frozenset({"recurrent_chest_infections"}),
}
NG12_SYMPTOMS = frozenset(
    {
        "persistent_cough",
        "fatigue_chronic",
        "shortness_of_breath",
        "spreading_ribs_chest_shoulder",
        "weight_loss_unintentional",
        "appetite_loss",
    }
)

RULE_TIERS: dict[str, Tier] = {
    "E00": Tier.EMERGENCY,
    **{rid: Tier.EMERGENCY for rid in (*EMERGENCY_SYMPTOMS, "E10")},
    **{rid: Tier.URGENT for rid in (*URGENT_SYMPTOMS, "U08", "U09")},
    **{rid: Tier.SOON for rid in (*SOON_SYMPTOMS, "S01", "S07", "S08", "S09")},
    "R01": Tier.ROUTINE,
    "R02": Tier.ROUTINE,
    # F03: an emergency question still unclear after a re-ask -> at least URGENT.
    "F03": Tier.URGENT,
}
ALL_RULE_IDS: tuple[str, ...] = tuple(sorted(RULE_TIERS, key=lambda r: ("EUSRF".index(r[0]), r)))
EMERGENCY_RULE_IDS = frozenset(r for r, t in RULE_TIERS.items() if t == Tier.EMERGENCY)


@dataclass(frozen=True)
class Facts:
    """What we know about this episode. None = not asked / not known yet."""

    symptoms: frozenset[str] = frozenset()
    screen_positive: bool = False  # YES to a combined emergency screen question (E00)
    weeks: float | None = None
    improving: bool | None = None
    pain_score: int | None = None
    age: int | None = None
    ever_smoked: bool | None = None
    clear_cause: bool | None = None  # started from a clear strain/posture (U09)
    unclear_emergency_answer: bool = False  # F03


@dataclass(frozen=True)
class Assessment:
    tier: Tier
    rule_ids: tuple[str, ...] = field(default_factory=tuple)


def emergency_rules(present: Iterable[str], cancer_history: bool = False) -> list[str]:
    """The EMERGENCY rule ids that these symptoms trigger on their own (F01 screen)."""
    present = frozenset(present)
    fired = [rid for rid, keys in EMERGENCY_SYMPTOMS.items() if present & keys]
    if "band_like_or_radiating_pain" in present and (cancer_history or "cancer_history" in present):
        fired.append("E10")
    return sorted(fired)


def triggered(facts: Facts) -> list[str]:
    """Every rule id the facts trigger, before switches and tier changes."""
    s = facts.symptoms
    fired: list[str] = emergency_rules(s)
    if facts.screen_positive:
        fired.append("E00")
    for table in (URGENT_SYMPTOMS, SOON_SYMPTOMS):
        fired += [rid for rid, keys in table.items() if s & keys]
    not_improving = facts.improving is False
    age50 = facts.age is not None and facts.age >= 50
    if "injury_or_fall" in s and (age50 or "osteoporosis_or_steroids" in s):
        fired.append("U08")
    if facts.clear_cause is False and not_improving and "lower_back_only" not in s:
        fired.append("U09")
    if facts.pain_score is not None and facts.pain_score >= 8:
        fired.append("U11")
    if facts.weeks is not None and (facts.weeks >= 6 or (facts.weeks >= 4 and not_improving)):
        fired.append("S01")
    if "spreading_ribs_chest_shoulder" in s and not_improving:
        fired.append("S07")
    n_ng12 = len(s & NG12_SYMPTOMS)
    if (
        facts.age is not None
        and facts.age >= 40
        and (n_ng12 >= 2 or (facts.ever_smoked and n_ng12 >= 1))
    ):
        fired.append("S08")
    if age50 and not_improving:
        fired.append("S09")
    if facts.unclear_emergency_answer:
        fired.append("F03")
    return sorted(set(fired), key=ALL_RULE_IDS.index)


def evaluate(
    facts: Facts,
    *,
    disabled: Iterable[str] = (),
    raised: Mapping[str, Tier | str | int] | None = None,
) -> Assessment:
    """Highest tier wins (F02); the reasons are the rule ids at that tier and above it.

    `disabled` rule ids are ignored unless they are EMERGENCY rules (the safety floor);
    `raised` maps rule ids to a tier, used only when it is higher than the table's.
    """
    off = frozenset(disabled) - EMERGENCY_RULE_IDS - {"F03"}
    tiers = dict(RULE_TIERS)
    for rid, tier in (raised or {}).items():
        if rid in tiers:
            tiers[rid] = max(tiers[rid], Tier.parse(tier))
    fired = [rid for rid in triggered(facts) if rid not in off]
    if not fired:
        rid = "R02" if "lower_back_only" in facts.symptoms else "R01"
        return Assessment(tiers[rid], (rid,))
    top = max(tiers[rid] for rid in fired)
    return Assessment(top, tuple(rid for rid in fired if tiers[rid] == top))


def can_reach(
    rule_ids: Iterable[str], raised: Mapping[str, Tier | str | int] | None = None
) -> Tier:
    """The highest tier any of these rules can give (to skip questions that cannot matter)."""
    tiers = [RULE_TIERS[r] for r in rule_ids if r in RULE_TIERS]
    for rid, tier in (raised or {}).items():
        if rid in rule_ids:
            tiers.append(Tier.parse(tier))
    return max(tiers, default=Tier.ROUTINE)
