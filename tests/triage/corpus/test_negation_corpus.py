"""Independent corpus: texts that must NOT be triaged as EMERGENCY.

Denials ("no numbness"), answers of "no" to the emergency screen, benign
mentions of scary words ("my husband had a heart attack last year", "I can't sit
at my desk for long") and plain mechanical back pain. Only texts a careful nurse
would agree are not emergencies are included; anything borderline (breathing
complaints, "not sure", denial of suicidal thoughts, partially resolved
symptoms) was deliberately left out, because over-triage is acceptable and this
file must never push the recogniser towards under-triage.

Some of these are still URGENT or SOON (e.g. night pain, a three-week cough);
that is fine here - only the EMERGENCY tier is asserted.
"""

import pytest


def _analyze(text):
    from triage.understanding import analyze

    return analyze(text)


def _emergency_rules(present, cancer_history=False):
    from triage.rules import emergency_rules

    return emergency_rules(present, cancer_history=cancer_history)


def case(case_id, text):
    return pytest.param(text, id=case_id)


DENIALS_EN = [
    case("brief-no-numb-no-weak", "no numbness, no weakness"),
    case("brief-not-sob", "not short of breath"),
    case("brief-legs-fine", "legs are fine"),
    case("brief-no-chest-pain", "I don't have chest pain"),
    case("brief-nothing-like-that", "nothing like that"),
    case("bare-no", "No"),
    case("bare-no-caps", "NO"),
    case("nope-none", "nope none of those"),
    case("no-to-all", "No to all of them, just the back ache"),
    case("no-numb-tingling", "no numbness or tingling anywhere"),
    case("typo-numbnes", "no numbnes no tingling"),
    case("pee-fine", "peeing fine, no problems with my bladder or bowels"),
    case("walk-fine", "I can walk fine, legs feel normal"),
    case("no-trouble-breathing", "no trouble breathing"),
    case("no-blood-coughed", "I havent coughed up any blood"),
    case("no-pins-needles", "no pins and needles"),
    case("not-numb-not-weak-sore", "not numb, not weak, just sore"),
    case("no-fall-no-accident", "didn't fall or have any accident, it just started aching"),
    case("chest-fine-upper-back", "chest is fine, it's only my upper back"),
    case("no-chest-pressure", "I'm not having any chest pain or pressure"),
    case("breathing-normal", "breathing normally, no chest pain"),
    case("no-bladder-bowel", "no bladder or bowel issues"),
    case("can-pee-fine", "I can pee fine"),
    case("no-loss-of-control", "no loss of control of my bladder or bowels"),
    case(
        "not-sweaty-no-chest",
        "I don't feel sick or sweaty, no chest pain, just stiff between the shoulders",
    ),
    case("nah-achy", "nah nothing like that, just achy"),
    case("none-list", "none. no numbness no weakness no peeing problems no chest pain"),
    case("never-numb", "Never had any numbness in my legs"),
    case("no-blood-cough", "no blood when I cough"),
    case("legs-strong", "Legs are strong, walked 5 miles yesterday"),
    case("nah-legs-r-fine", "nah legs r fine"),
    case("no-chest-pain-no-sob", "no chest pain no sob"),
    case("three-nos", "No numbness. No weakness. No problems peeing."),
    case("all-fine-lol", "pee is fine, poop is fine, legs are fine, just my back lol"),
    case("not-numb-meant-stiff", "Not numb, I just meant stiff"),
]

DENIALS_ES = [
    case("es-no-dolor-pecho", "no tengo dolor de pecho"),
    case("es-ni-ni", "ni entumecimiento ni debilidad"),
    case("es-no-falta-aire", "no me falta el aire"),
    case("es-nada-de-eso", "no, nada de eso"),
    case("es-no-tengo-nada", "no, no tengo nada de eso"),
    case("es-piernas-bien", "las piernas las tengo bien"),
    case("es-orino-normal", "orino normal, sin problemas"),
    case("es-no-hormigueo", "no tengo hormigueo ni adormecimiento en las piernas"),
    case("es-no-tosido-sangre", "no he tosido sangre"),
    case("es-no-problemas-orinar", "no tengo problemas para orinar"),
    case("es-respiro-bien", "respiro bien, solo me duele la espalda"),
    case("es-no-pecho-omoplatos", "no me duele el pecho, me duele entre los omóplatos"),
    case("es-no-fiebre-ni-tos", "no tengo fiebre ni tos"),
    case("es-ninguno", "ninguno"),
    case("es-nop-nada", "nop, nada"),
    case("es-no-se-duermen", "no se me duermen las piernas"),
    case("es-no-caido", "no me he caído ni nada"),
    case("es-pipi-bien", "no tengo problema para hacer pipí"),
    case("es-camino-bien", "camino bien, las piernas normales"),
    case("mix-no-numbness", "no tengo numbness ni nada, just back pain"),
]

BENIGN = [
    case("lifting-boxes", "pulled a muscle lifting boxes"),
    case("desk", "hurts between my shoulder blades when I sit at my desk"),
    case("rowing", "sore upper back after rowing at the gym yesterday"),
    case("slept-funny", "slept funny and now my upper back is stiff"),
    case("killing-me-moving", "my back is killing me after moving house"),
    case("laptop", "upper back aches from hunching over my laptop"),
    case("cant-sit-long", "I can't sit for long at work without my upper back aching"),
    case("cant-do-bra", "can't reach behind my back to do my bra up, it's so stiff"),
    case("cant-sleep-side", "Can't sleep on my left side because my shoulder blade aches"),
    case(
        "husband-heart-attack",
        "my husband had a heart attack last year so I'm a bit anxious, but this is just a "
        "sore back from gardening, no chest pain",
    ),
    case(
        "old-car-accident",
        "I was in a car accident about 10 years ago but this pain is new, started after "
        "painting the ceiling",
    ),
    case(
        "bleachers",
        "sat on hard bleachers all day at my son's game and now my back and butt are sore",
    ),
    case("twisting", "I'm breathing fine, just sore when I twist"),
    case("long-drives", "it's a dull ache, comes and goes, worse after long drives"),
    case("getting-better", "back is getting better, the stretches are helping"),
    case("feeling-better", "feeling much better today thanks"),
    case("doing-exercises", "yes I'm doing the exercises"),
    case("ok-thanks", "ok thanks"),
    case("score-3", "pain is about 3/10 today"),
    case("quit-smoking", "I quit smoking 10 years ago"),
    case("wakes-me-at-night", "the pain wakes me up at night"),
    case("cough-three-weeks", "had a cough for three weeks, back aches too"),
    case("es-bebe", "me duele la espalda de cargar a mi bebé"),
    case("es-gym", "me jalé un músculo en el gimnasio"),
    case("es-compu", "tengo la espalda cargada de estar en la computadora todo el día"),
    case("es-contractura-spain", "tengo una contractura entre los omóplatos por dormir mal"),
    case("es-gracias-mejor", "gracias, ya me siento mejor"),
    case("es-cajas-trabajo", "me lastimé la espalda cargando cajas en el trabajo"),
    case("es-mejorando", "ya me duele menos, los ejercicios me están ayudando"),
]

CASES = DENIALS_EN + DENIALS_ES + BENIGN


@pytest.mark.parametrize("text", CASES)
def test_not_an_emergency(text):
    a = _analyze(text)
    rules = _emergency_rules(a.present, cancer_history=False)
    assert not rules, f"{text!r} wrongly triaged EMERGENCY {rules} (present={sorted(a.present)})"


def test_corpus_size():
    ids = [p.id for p in CASES]
    assert len(ids) == len(set(ids)), "duplicate case ids"
    assert len(CASES) >= 60
