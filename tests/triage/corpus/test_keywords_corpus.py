"""Independent corpus: SMS keywords/intents and language detection.

Intents (rules.md F04/F05 + contract): "opt_out", "opt_in", "help", "restart"
or None. Opt-out must honour the carrier keywords in any case and reasonable
natural-language / Spanish requests (FCC 24-24: revocation by any reasonable
means), but everyday sentences about pain that merely contain "stop", "end",
"cancel" or "quit" must not unsubscribe a patient.

An opt-out that also carries emergency content must still be recognised as an
emergency (F01/F04): both are checked below.
"""

import pytest


def _analyze(text):
    from triage.understanding import analyze

    return analyze(text)


def _emergency_rules(present, cancer_history=False):
    from triage.rules import emergency_rules

    return emergency_rules(present, cancer_history=cancer_history)


def p(text, case_id=None):
    return pytest.param(text, id=case_id or text)


OPT_OUT = [
    p("STOP"),
    p("stop"),
    p("Stop.", "Stop-dot"),
    p("STOP!", "STOP-bang"),
    p(" stop ", "stop-padded"),
    p("STOPALL"),
    p("UNSUBSCRIBE"),
    p("Unsubscribe"),
    p("CANCEL"),
    p("END"),
    p("QUIT"),
    p("quit"),
    p("REVOKE"),
    p("OPTOUT"),
    p("OPT OUT"),
    p("opt out"),
    p("stop texting me"),
    p("please stop messaging me"),
    p("unsubscribe me"),
    p("BAJA"),
    p("baja"),
    p("ALTO"),
    p("ya no quiero mensajes"),
    p("no me manden mas mensajes"),
    p("no me manden más mensajes", "no me manden mas mensajes-accent"),
    p("dejen de escribirme"),
]

NOT_OPT_OUT = [
    p("my pain won't stop"),
    p("it doesn't stop hurting"),
    p("the pain never ends"),
    p("I can't stop coughing"),
    p("should I cancel my gym?"),
    p("I quit smoking last year"),
    p("the pain stops when I lie down"),
    p("I slipped at the bus stop"),
    p("can I stop doing the exercises if they hurt?"),
    p("I had to quit my job because of my back"),
    p("it gets worse towards the end of the day"),
    p("no para de dolerme la espalda"),
    p("el dolor no se me quita con nada"),
]

OPT_IN = [p("START"), p("start"), p("Start"), p("UNSTOP"), p("unstop")]

HELP = [p("HELP"), p("help"), p("Help"), p("INFO"), p("info"), p("AYUDA"), p("ayuda")]

RESTART = [
    p("RESTART"),
    p("restart"),
    p("start over"),
    p("START OVER"),
    p("empezar de nuevo"),
]


@pytest.mark.parametrize("text", OPT_OUT)
def test_opt_out(text):
    assert _analyze(text).intent == "opt_out"


@pytest.mark.parametrize("text", NOT_OPT_OUT)
def test_not_opt_out(text):
    assert _analyze(text).intent != "opt_out"


@pytest.mark.parametrize("text", OPT_IN)
def test_opt_in(text):
    assert _analyze(text).intent == "opt_in"


@pytest.mark.parametrize("text", HELP)
def test_help(text):
    assert _analyze(text).intent == "help"


@pytest.mark.parametrize("text", RESTART)
def test_restart(text):
    assert _analyze(text).intent == "restart"


OPT_OUT_WITH_EMERGENCY = [
    pytest.param(
        "STOP texting me. I can't feel my legs.",
        {"leg_numbness_tingling", "leg_weakness"},
        id="stop-cant-feel-legs",
    ),
    pytest.param(
        "unsubscribe me, I'm done with this, I wet myself again",
        {"bladder_bowel_control_loss"},
        id="unsubscribe-wet-myself",
    ),
    pytest.param(
        "BAJA. no puedo orinar desde ayer", {"trouble_urinating"}, id="baja-no-puedo-orinar"
    ),
]


@pytest.mark.parametrize(("text", "keys"), OPT_OUT_WITH_EMERGENCY)
def test_opt_out_with_emergency_keeps_both(text, keys):
    a = _analyze(text)
    assert a.intent == "opt_out"
    assert set(a.present) & keys, f"expected one of {sorted(keys)}: {sorted(a.present)}"
    assert _emergency_rules(a.present, cancer_history=False)


LANGUAGE = [
    pytest.param("me duele mucho la espalda y no puedo dormir", "es", id="es-no-puedo-dormir"),
    pytest.param("tengo dolor entre los omóplatos desde hace una semana", "es", id="es-omoplatos"),
    pytest.param("Hola, me duele la espalda de arriba", "es", id="es-hola"),
    pytest.param("se me duermen las piernas", "es", id="es-duermen"),
    pytest.param("no tengo fiebre", "es", id="es-no-tengo-fiebre"),
    pytest.param("me hice pipi encima", "es", id="es-pipi-sin-acento"),
    pytest.param("me duele el pecho y no puedo respirar", "es", id="es-pecho"),
    pytest.param("my upper back has been hurting for two weeks", "en", id="en-two-weeks"),
    pytest.param("hurts between my shoulder blades when I sit at my desk", "en", id="en-desk"),
    pytest.param("Hi, my back hurts", "en", id="en-hi"),
    pytest.param("cant feel my legz", "en", id="en-legz"),
    pytest.param("I wet myself", "en", id="en-wet-myself"),
    pytest.param("no fever, no cough, just sore", "en", id="en-no-fever"),
]


@pytest.mark.parametrize(("text", "lang"), LANGUAGE)
def test_language(text, lang):
    assert _analyze(text).language == lang
