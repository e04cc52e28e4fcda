"""The red-flag rule table (triage/rules.py) against shared/clinical/rules.md, one row per rule id.

Each row is the smallest set of facts that should trigger the rule, and the tier rules.md gives
it. A rule added to rules.ALL_RULE_IDS without a row here fails test_it_covers_every_rule_id.
"""

from __future__ import annotations

import pytest

from triage.rules import ALL_RULE_IDS, Facts, Tier, evaluate

E, U, S, R = Tier.EMERGENCY, Tier.URGENT, Tier.SOON, Tier.ROUTINE


def facts(*symptoms: str, **known: object) -> Facts:
    return Facts(symptoms=frozenset(symptoms), **known)  # type: ignore[arg-type]


# rule id -> (minimal facts that trigger it, tier from rules.md)
TRIGGERS: dict[str, tuple[Facts, Tier]] = {
    "E00": (facts(screen_positive=True), E),
    "E01": (facts("leg_weakness"), E),
    "E02": (facts("leg_numbness_tingling"), E),
    "E03": (facts("trouble_urinating"), E),
    "E04": (facts("sudden_arm_or_leg_weakness"), E),
    "E05": (facts("heart_attack_signs"), E),
    "E06": (facts("chest_pain_with_sob"), E),
    "E07": (facts("coughing_blood_large"), E),
    "E08": (facts("tearing_pain_sudden"), E),
    "E09": (facts("major_trauma"), E),
    "E10": (facts("cancer_history", "band_like_or_radiating_pain"), E),
    "E11": (facts("sepsis_signs"), E),
    "E12": (facts("mental_health_crisis"), E),
    "U01": (facts("cancer_history"), U),
    "U02": (facts("coughing_blood_streaks"), U),
    "U03": (facts("fever"), U),
    "U04": (facts("weight_loss_unintentional"), U),
    "U05": (facts("night_pain"), U),
    "U06": (facts("pain_cough_strain"), U),
    "U07": (facts("pain_deep_breath"), U),
    "U08": (facts("injury_or_fall", age=50), U),
    "U09": (facts(clear_cause=False, improving=False), U),
    "U10": (facts("lump_or_deformity"), U),
    "U11": (facts(pain_score=8), U),
    "U12": (facts("breathless_at_rest"), U),
    "S01": (facts(weeks=6), S),
    "S02": (facts("not_responding_to_treatment"), S),
    "S03": (facts("persistent_cough"), S),
    "S04": (facts("shortness_of_breath"), S),
    "S05": (facts("fatigue_chronic"), S),
    "S06": (facts("recurrent_chest_infections"), S),
    "S07": (facts("spreading_ribs_chest_shoulder", improving=False), S),
    # appetite loss and spreading pain are NG12 symptoms that fire no other rule on their own
    "S08": (facts("appetite_loss", "spreading_ribs_chest_shoulder", age=40), S),
    "S09": (facts(age=50, improving=False), S),
    "R01": (facts(), R),
    "R02": (facts("lower_back_only"), R),
    "F03": (facts(unclear_emergency_answer=True), U),
}


def test_it_covers_every_rule_id() -> None:
    assert sorted(TRIGGERS) == sorted(ALL_RULE_IDS)


@pytest.mark.parametrize(("rule_id", "case"), list(TRIGGERS.items()), ids=list(TRIGGERS))
def test_it_gives_each_rule_its_tier_and_names_it(rule_id: str, case: tuple[Facts, Tier]) -> None:
    fact, tier = case
    result = evaluate(fact)
    assert result.tier == tier
    assert rule_id in result.rule_ids


# The alternative triggers a rule has besides its row above.
OTHER_TRIGGERS = [
    pytest.param("E02", facts("saddle_numbness"), E, id="E02-saddle-numbness"),
    pytest.param("E03", facts("bladder_bowel_control_loss"), E, id="E03-lost-control"),
    pytest.param("E06", facts("sudden_severe_breathlessness"), E, id="E06-too-breathless"),
    pytest.param("U05", facts("pain_at_rest"), U, id="U05-at-rest"),
    pytest.param("U05", facts("worse_lying_in_bed"), U, id="U05-lying-in-bed"),
    pytest.param("U08", facts("injury_or_fall", "osteoporosis_or_steroids", age=30), U,
                 id="U08-fall-on-steroids-at-30"),
    pytest.param("U08", facts("injury_or_fall", age=72), U, id="U08-fall-at-72"),
    pytest.param("U11", facts(pain_score=10), U, id="U11-ten-out-of-ten"),
    pytest.param("U11", facts("severe_pain"), U, id="U11-unbearable-in-words"),
    pytest.param("S01", facts(weeks=4, improving=False), S, id="S01-4-weeks-not-improving"),
    pytest.param("S01", facts(weeks=26, improving=True), S, id="S01-6-months-improving"),
    pytest.param("S08", facts("persistent_cough", age=62, ever_smoked=True), S,
                 id="S08-smoker-one-symptom"),
    pytest.param("S08", facts("appetite_loss", age=40, ever_smoked=True), S,
                 id="S08-smoker-appetite-loss-at-40"),
]


@pytest.mark.parametrize(("rule_id", "fact", "tier"), OTHER_TRIGGERS)
def test_it_fires_on_each_documented_trigger(rule_id: str, fact: Facts, tier: Tier) -> None:
    result = evaluate(fact)
    assert result.tier == tier
    assert rule_id in result.rule_ids


# Half a combination is not enough: rules.md says the rule needs both parts.
NOT_ENOUGH = [
    pytest.param(facts("band_like_or_radiating_pain"), "E10", R, id="E10-band-pain-without-cancer"),
    pytest.param(facts("cancer_history"), "E10", U, id="E10-cancer-without-band-pain"),
    pytest.param(facts("injury_or_fall", age=30), "U08", R, id="U08-fall-at-30"),
    pytest.param(facts("injury_or_fall", age=49), "U08", R, id="U08-fall-at-49"),
    pytest.param(facts("osteoporosis_or_steroids", age=70), "U08", R, id="U08-steroids-no-fall"),
    pytest.param(facts(clear_cause=True, improving=False), "U09", R,
                 id="U09-clear-cause-not-improving"),
    pytest.param(facts(clear_cause=False, improving=True), "U09", R,
                 id="U09-no-cause-but-improving"),
    pytest.param(facts(clear_cause=False), "U09", R, id="U09-trend-not-asked-yet"),
    pytest.param(facts("lower_back_only", clear_cause=False, improving=False), "U09", R,
                 id="U09-lower-back-only"),
    pytest.param(facts(pain_score=7), "U11", R, id="U11-seven-out-of-ten"),
    pytest.param(facts(weeks=4, improving=True), "S01", R, id="S01-4-weeks-improving"),
    pytest.param(facts(weeks=3.9, improving=False), "S01", R, id="S01-under-4-weeks"),
    pytest.param(facts(weeks=5.9, improving=True), "S01", R, id="S01-under-6-weeks-improving"),
    pytest.param(facts("spreading_ribs_chest_shoulder", improving=True), "S07", R,
                 id="S07-spreading-but-improving"),
    pytest.param(facts("appetite_loss", "spreading_ribs_chest_shoulder", age=39), "S08", R,
                 id="S08-age-39"),
    pytest.param(facts("appetite_loss", age=45, ever_smoked=False), "S08", R,
                 id="S08-non-smoker-one-symptom"),
    pytest.param(facts("appetite_loss", "spreading_ribs_chest_shoulder"), "S08", R,
                 id="S08-age-unknown"),
    pytest.param(facts(age=49, improving=False), "S09", R, id="S09-age-49"),
    pytest.param(facts(age=50, improving=True), "S09", R, id="S09-50-and-improving"),
]


@pytest.mark.parametrize(("fact", "rule_id", "tier"), NOT_ENOUGH)
def test_it_does_not_fire_on_half_a_combination(fact: Facts, rule_id: str, tier: Tier) -> None:
    result = evaluate(fact)
    assert result.tier == tier
    assert rule_id not in result.rule_ids


HIGHEST_WINS = [
    pytest.param(
        facts("leg_numbness_tingling", clear_cause=True, improving=True, weeks=1, pain_score=2),
        E, ("E02",), id="numb-legs-beat-a-mild-strain",
    ),
    pytest.param(facts("fever", "fatigue_chronic", weeks=8), U, ("U03",), id="fever-beats-soon"),
    pytest.param(facts("cancer_history", "band_like_or_radiating_pain", "fever"), E, ("E10",),
                 id="band-pain-with-cancer-beats-urgent"),
    pytest.param(facts("persistent_cough", weeks=1, clear_cause=True, improving=True), S,
                 ("S03",), id="cough-beats-routine"),
    pytest.param(facts("lower_back_only", "trouble_urinating"), E, ("E03",),
                 id="lower-back-with-retention-is-emergency"),
    pytest.param(facts("lower_back_only", "fever"), U, ("U03",), id="lower-back-with-fever"),
]


@pytest.mark.parametrize(("fact", "tier", "reasons"), HIGHEST_WINS)
def test_it_lets_the_highest_tier_win(fact: Facts, tier: Tier, reasons: tuple[str, ...]) -> None:
    result = evaluate(fact)
    assert result.tier == tier
    assert result.rule_ids == reasons  # only the reasons at the winning tier


def test_it_names_every_reason_at_the_winning_tier() -> None:
    result = evaluate(facts("leg_weakness", "trouble_urinating", "fever"))
    assert result.tier == E
    assert result.rule_ids == ("E01", "E03")


# Staff can switch rules off and raise them in admin; the safety floor holds whatever they do.
SWITCHES = [
    pytest.param(facts("leg_numbness_tingling"), {"E02"}, None, E, id="E02-cannot-be-disabled"),
    pytest.param(facts("leg_weakness", "trouble_urinating"), {"E01", "E03"}, None, E,
                 id="no-emergency-rule-can-be-disabled"),
    pytest.param(facts(screen_positive=True), {"E00"}, None, E, id="E00-cannot-be-disabled"),
    pytest.param(facts("pain_cough_strain"), {"U03"}, None, U, id="disabling-U03-leaves-U06"),
    pytest.param(facts("fever"), {"U03"}, None, R, id="U03-disabled-turns-it-off"),
    pytest.param(facts("fever", "fatigue_chronic"), {"U03"}, None, S,
                 id="U03-disabled-falls-to-the-next-rule"),
    pytest.param(facts("fatigue_chronic"), (), {"S05": "URGENT"}, U, id="S05-raised-to-urgent"),
    pytest.param(facts("fatigue_chronic"), (), {"S05": Tier.EMERGENCY}, E,
                 id="S05-raised-to-emergency"),
    pytest.param(facts("leg_weakness"), (), {"E01": "ROUTINE"}, E, id="E01-cannot-be-lowered"),
    pytest.param(facts("fever"), (), {"U03": "SOON"}, U, id="U03-cannot-be-lowered"),
    pytest.param(facts(weeks=8), (), {"S01": 0}, S, id="S01-cannot-be-lowered"),
]


@pytest.mark.parametrize(("fact", "disabled", "raised", "tier"), SWITCHES)
def test_it_keeps_the_safety_floor_when_rules_are_switched(
    fact: Facts, disabled: set[str], raised: dict | None, tier: Tier
) -> None:
    assert evaluate(fact, disabled=disabled, raised=raised).tier == tier


def test_it_names_a_raised_rule_as_the_reason() -> None:
    result = evaluate(facts("fatigue_chronic", "fever"), raised={"S05": "URGENT"})
    assert result.tier == U
    assert result.rule_ids == ("U03", "S05")
