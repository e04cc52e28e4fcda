"""Independent corpus: URGENT, SOON and context symptom keys.

POSITIVE: the text asserts the symptom, so the key must be in ``present``.
Only presence is checked; extra keys (over-reading) are not failures here.

NEGATED: the text denies (or clearly excludes) a symptom, so that key must be
absent; where the same text also asserts another symptom, that key must be
present too ("no fever but it wakes me up at night").
"""

import pytest


def _analyze(text):
    from triage.understanding import analyze

    return analyze(text)


URGENT_KEYS = {
    "cancer_history",
    "coughing_blood_streaks",
    "fever",
    "weight_loss_unintentional",
    "pain_at_rest",
    "night_pain",
    "worse_lying_in_bed",
    "pain_cough_strain",
    "pain_deep_breath",
    "lump_or_deformity",
    "breathless_at_rest",
    "injury_or_fall",
    "osteoporosis_or_steroids",
    "severe_pain",
}
SOON_KEYS = {
    "not_responding_to_treatment",
    "persistent_cough",
    "shortness_of_breath",
    "fatigue_chronic",
    "recurrent_chest_infections",
    "spreading_ribs_chest_shoulder",
    "appetite_loss",
}
CONTEXT_KEYS = {"clear_mechanical_cause", "lower_back", "upper_back"}


def pos(case_id, key, text):
    return pytest.param(text, key, id=f"{key}-{case_id}")


POSITIVE = [
    # cancer_history (U01)
    pos("breast-3y", "cancer_history", "I had breast cancer 3 years ago"),
    pos("colon-es", "cancer_history", "tuve cáncer de colon hace 5 años"),
    pos("chemo-lymphoma", "cancer_history", "currently on chemo for lymphoma"),
    pos("prostate-radio", "cancer_history", "history of prostate cancer, had radiotherapy in 2019"),
    pos("remission-typo", "cancer_history", "im in remision from leukemia"),
    pos(
        "tumor-maligno-es", "cancer_history", "hace dos años me quitaron un tumor maligno del seno"
    ),
    # coughing_blood_streaks (U02)
    pos(
        "few-streaks",
        "coughing_blood_streaks",
        "a few streaks of blood when I cough in the morning",
    ),
    pos(
        "specks-phlegm",
        "coughing_blood_streaks",
        "noticed a couple of specks of blood in my phlegm",
    ),
    pos("hilitos-es", "coughing_blood_streaks", "tengo hilitos de sangre en la flema"),
    pos(
        "spots-tissue",
        "coughing_blood_streaks",
        "coughed and there were 2 tiny spots of blood on the tissue",
    ),
    # fever (U03)
    pos("since-sunday", "fever", "I've had a fever since Sunday"),
    pos("temp-celsius", "fever", "temp was 38.6 last night"),
    pos("temp-101", "fever", "running a temperature of 101"),
    pos("fiebre-es", "fever", "tengo fiebre"),
    pos("calentura-mx", "fever", "tengo calentura desde ayer"),
    pos("feverish-shivery", "fever", "feel feverish and shivery"),
    # weight_loss_unintentional (U04)
    pos("stone-uk", "weight_loss_unintentional", "lost a stone without trying"),
    pos("15lbs", "weight_loss_unintentional", "dropped 15 lbs in 2 months and im not dieting"),
    pos("bajado-es", "weight_loss_unintentional", "he bajado de peso sin hacer dieta"),
    pos(
        "clothes-hanging",
        "weight_loss_unintentional",
        "my clothes are hanging off me, lost weight and dont know why",
    ),
    pos("kilos-mx", "weight_loss_unintentional", "bajé como 6 kilos sin querer"),
    # pain_at_rest (U05)
    pos("resting", "pain_at_rest", "it hurts even when I'm resting"),
    pos("sitting-still", "pain_at_rest", "aches even when im sitting still doing nothing"),
    pos("reposo-es", "pain_at_rest", "me duele aunque esté en reposo"),
    # night_pain (U05)
    pos("wakes-me", "night_pain", "the pain wakes me up at night"),
    pos("worse-at-night", "night_pain", "much worse at night"),
    pos("no-puedo-dormir-es", "night_pain", "no puedo dormir del dolor en las noches"),
    pos("madrugada-es", "night_pain", "me despierta el dolor en la madrugada"),
    # worse_lying_in_bed (U05)
    pos("longer-in-bed", "worse_lying_in_bed", "the longer I lie in bed the worse it gets"),
    pos("lying-down", "worse_lying_in_bed", "worse when im lying down in bed"),
    pos("acostada-es", "worse_lying_in_bed", "acostada en la cama me duele más"),
    # pain_cough_strain (U06)
    pos("sneeze", "pain_cough_strain", "hurts like hell when I sneeze"),
    pos("cough-shoots", "pain_cough_strain", "pain shoots up my back when I cough"),
    pos("toilet-strain", "pain_cough_strain", "hurts when I strain on the toilet"),
    pos("estornudar-es", "pain_cough_strain", "me duele al estornudar o al toser"),
    pos("pujo-mx", "pain_cough_strain", "me duele cuando pujo en el baño"),
    # pain_deep_breath (U07)
    pos("deep-breath", "pain_deep_breath", "hurts to take a deep breath"),
    pos("breathe-in-deep", "pain_deep_breath", "sharp pain in my back when i breathe in deep"),
    pos("hondo-es", "pain_deep_breath", "me duele al respirar hondo"),
    pos("profundo-es", "pain_deep_breath", "me duele la espalda cuando respiro profundo"),
    # lump_or_deformity (U10)
    pos("lump-spine", "lump_or_deformity", "there's a lump on my spine that wasn't there before"),
    pos("crooked", "lump_or_deformity", "my back looks crooked now"),
    pos("bolita-es", "lump_or_deformity", "tengo una bolita en la espalda"),
    pos("swelling", "lump_or_deformity", "noticed a swelling over my spine"),
    pos(
        "hunched",
        "lump_or_deformity",
        "my husband says my upper back is more hunched than it used to be",
    ),
    # breathless_at_rest (U12)
    pos("couch", "breathless_at_rest", "out of breath just sitting on the couch"),
    pos("resting", "breathless_at_rest", "getting breathless even when I'm resting"),
    pos("sentada-es", "breathless_at_rest", "me falta el aire aunque esté sentada sin hacer nada"),
    # injury_or_fall (U08)
    pos("ice", "injury_or_fall", "slipped on ice and landed on my back"),
    pos("regadera-mx", "injury_or_fall", "me caí en la regadera"),
    pos("door-frame", "injury_or_fall", "bumped my back hard on the door frame"),
    pos("tripped-cat", "injury_or_fall", "tripped over the cat and fell on my bum"),
    # osteoporosis_or_steroids (U08)
    pos("osteoporosis", "osteoporosis_or_steroids", "I have osteoporosis"),
    pos("prednisone", "osteoporosis_or_steroids", "been on prednisone for over a year"),
    pos("cortisona-es", "osteoporosis_or_steroids", "tomo pastillas de cortisona desde hace años"),
    pos("thin-bones", "osteoporosis_or_steroids", "doc says i have thin bones"),
    pos("osteoporosis-es", "osteoporosis_or_steroids", "tengo osteoporosis"),
    # severe_pain (U11)
    pos("10-10", "severe_pain", "pain is 10/10"),
    pos("worst-ever", "severe_pain", "worst pain I've ever had in my back"),
    pos("unbearable", "severe_pain", "it's unbearable"),
    pos("10-de-10-es", "severe_pain", "me duele horrible, 10 de 10"),
    pos("insoportable-es", "severe_pain", "el dolor es insoportable"),
    pos("9-pills", "severe_pain", "pain is a 9 out of 10 and the pills arent touching it"),
    # not_responding_to_treatment (S02)
    pos("physio", "not_responding_to_treatment", "physio didn't help at all"),
    pos(
        "6-weeks-pt",
        "not_responding_to_treatment",
        "done 6 weeks of physical therapy and it's no better",
    ),
    pos("terapia-es", "not_responding_to_treatment", "la terapia no me ha servido de nada"),
    pos(
        "chiro-massage",
        "not_responding_to_treatment",
        "tried the chiropractor and massage, nothing has worked",
    ),
    # persistent_cough (S03)
    pos("3-weeks", "persistent_cough", "had a cough for 3 weeks"),
    pos("wont-go-away", "persistent_cough", "cough that just won't go away"),
    pos("un-mes-es", "persistent_cough", "tengo tos desde hace un mes"),
    pos(
        "smokers-cough-changed",
        "persistent_cough",
        "my smokers cough has changed, it's worse and sounds different",
    ),
    # shortness_of_breath (S04)
    pos("stairs-weeks", "shortness_of_breath", "been breathless on the stairs for a few weeks"),
    pos(
        "winded-hill", "shortness_of_breath", "get winded walking up the hill lately, never used to"
    ),
    pos(
        "escaleras-es",
        "shortness_of_breath",
        "desde hace semanas me falta el aire al subir escaleras",
    ),
    # fatigue_chronic (S05)
    pos("tired-weeks", "fatigue_chronic", "tired all the time for weeks"),
    pos(
        "no-energy", "fatigue_chronic", "exhausted constantly, no energy at all for the last month"
    ),
    pos("cansadisima-es", "fatigue_chronic", "ando cansadísima todo el tiempo desde hace semanas"),
    # recurrent_chest_infections (S06)
    pos("keep-getting", "recurrent_chest_infections", "I keep getting chest infections"),
    pos(
        "bronchitis-3rd",
        "recurrent_chest_infections",
        "this is my third bout of bronchitis this year",
    ),
    pos("bronquitis-es", "recurrent_chest_infections", "me da bronquitis a cada rato"),
    # spreading_ribs_chest_shoulder (S07)
    pos("ribs", "spreading_ribs_chest_shoulder", "the pain spreads round to my ribs"),
    pos(
        "shoulder",
        "spreading_ribs_chest_shoulder",
        "it goes into my right shoulder and doesn't get better",
    ),
    pos("costillas-es", "spreading_ribs_chest_shoulder", "el dolor se me corre a las costillas"),
    # appetite_loss (S08 list)
    pos("not-hungry", "appetite_loss", "not hungry at all anymore"),
    pos("lost-appetite", "appetite_loss", "lost my appetite"),
    pos("apetito-es", "appetite_loss", "se me quitó el apetito"),
    pos("no-tengo-hambre-es", "appetite_loss", "no tengo hambre, casi no como"),
    # clear_mechanical_cause (U09 / R01)
    pos("lifting", "clear_mechanical_cause", "started after lifting heavy boxes at work"),
    pos("deadlifts", "clear_mechanical_cause", "hurt it doing deadlifts"),
    pos("desk", "clear_mechanical_cause", "from sitting hunched at my desk all day"),
    pos("cargar-nino-es", "clear_mechanical_cause", "me empezó de cargar a mi niño"),
    pos("futbol-es", "clear_mechanical_cause", "me lastimé jugando fútbol"),
    # lower_back (R02)
    pos("lower", "lower_back", "my lower back hurts"),
    pos("lumbar", "lower_back", "pain in my lumbar area"),
    pos("baja-es", "lower_back", "me duele la parte baja de la espalda"),
    # upper_back
    pos("shoulder-blades", "upper_back", "pain between my shoulder blades"),
    pos("upper", "upper_back", "my upper back is sore"),
    pos("omoplatos-es", "upper_back", "me duele entre los omóplatos"),
    pos("arriba-es", "upper_back", "me duele la parte de arriba de la espalda"),
    pos("paletas-mx", "upper_back", "tengo un dolor entre las paletas"),
]


def neg(case_id, text, absent, present=None):
    return pytest.param(text, absent, present, id=f"no-{absent}-{case_id}")


NEGATED = [
    neg("bare", "no fever", "fever"),
    neg("but-night", "no fever but it wakes me up at night", "fever", "night_pain"),
    neg("he-tenido-es", "no he tenido fiebre", "fever"),
    neg("sin-es", "sin fiebre ni calentura", "fever"),
    neg("es-but-night", "no tengo fiebre pero no puedo dormir del dolor", "fever", "night_pain"),
    neg(
        "cough-but-temp", "no cough but I've had a temperature of 38.5", "persistent_cough", "fever"
    ),
    neg("havent-lost", "haven't lost any weight", "weight_loss_unintentional"),
    neg(
        "dieting-on-purpose",
        "I'm on a diet and have lost 5kg on purpose",
        "weight_loss_unintentional",
    ),
    neg("doesnt-wake", "it doesn't wake me up at night", "night_pain"),
    neg(
        "cough-sneeze-no-worse",
        "coughing and sneezing don't make it any worse",
        "pain_cough_strain",
    ),
    neg("toser-es", "no me duele al toser", "pain_cough_strain"),
    neg("never", "never had cancer", "cancer_history"),
    neg("nunca-es", "nunca he tenido cáncer", "cancer_history"),
    neg("no-lumps", "no lumps or bumps that I can see", "lump_or_deformity"),
    neg("physio-helping", "physio is helping loads", "not_responding_to_treatment"),
    neg("not-fallen", "I haven't fallen or hurt myself", "injury_or_fall"),
    neg("no-tos-es", "no tengo tos", "persistent_cough"),
    neg("not-tired", "not tired, sleeping fine", "fatigue_chronic"),
    neg("appetite-fine", "appetite is fine, eating normally", "appetite_loss"),
    neg("no-blood", "no blood when I cough", "coughing_blood_streaks"),
    neg("no-osteo-steroids", "no osteoporosis and I'm not on steroids", "osteoporosis_or_steroids"),
    neg("breathe-in-ok", "it doesn't hurt when I breathe in", "pain_deep_breath"),
]


@pytest.mark.parametrize(("text", "key"), POSITIVE)
def test_symptom_recognised(text, key):
    a = _analyze(text)
    assert key in a.present, f"{key!r} not found in {text!r}: present={sorted(a.present)}"


@pytest.mark.parametrize(("text", "absent", "present"), NEGATED)
def test_negated_symptom_absent(text, absent, present):
    a = _analyze(text)
    assert absent not in a.present, (
        f"denied {absent!r} reported present in {text!r}: {sorted(a.present)}"
    )
    if present is not None:
        assert present in a.present, (
            f"{present!r} not found in {text!r}: present={sorted(a.present)}"
        )


def test_corpus_covers_every_non_emergency_key():
    covered = {p.values[1] for p in POSITIVE}
    wanted = URGENT_KEYS | SOON_KEYS | CONTEXT_KEYS
    assert wanted <= covered, f"no case for {sorted(wanted - covered)}"
    assert covered <= wanted
    ids = [p.id for p in POSITIVE + NEGATED]
    assert len(ids) == len(set(ids)), "duplicate case ids"
    assert len(POSITIVE) + len(NEGATED) >= 60
