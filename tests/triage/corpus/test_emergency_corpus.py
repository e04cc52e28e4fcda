"""Independent corpus: free-text SMS that MUST be triaged as EMERGENCY.

Written without sight of the recogniser, from /work/shared/clinical/rules.md
(E01-E12). Each case is a whole text message as a frightened, in-pain person
might send it: typos, no punctuation, all caps, texting shorthand, slang,
Spanish (Mexican, Caribbean, Spain) and US Spanglish, denials mixed with a real
sign, long messages with the sign buried, and texts that also contain STOP.

For every case two things are checked:

* ``analyze(text).present`` contains at least one of the case's keys (the first
  key is the one the case was written for; any extra keys are clinically
  equivalent readings that still mean EMERGENCY, e.g. "can't feel my legs" may
  reasonably be read as numbness or as weakness);
* ``emergency_rules(present, ...)`` is non-empty.

Under-triage is the worst failure this service can have: none of these may be
"fixed" by deleting the case.
"""

import pytest

# Imported lazily so that this file always collects, even while the recogniser
# is unfinished; every test then fails loudly instead of being skipped.


def _analyze(text):
    from triage.understanding import analyze

    return analyze(text)


def _emergency_rules(present, cancer_history=False):
    from triage.rules import emergency_rules

    return emergency_rules(present, cancer_history=cancer_history)


EMERGENCY_KEYS = {
    "leg_weakness",
    "leg_numbness_tingling",
    "saddle_numbness",
    "trouble_urinating",
    "bladder_bowel_control_loss",
    "sudden_arm_or_leg_weakness",
    "heart_attack_signs",
    "chest_pain_with_sob",
    "sudden_severe_breathlessness",
    "coughing_blood_large",
    "tearing_pain_sudden",
    "major_trauma",
    "sepsis_signs",
    "mental_health_crisis",
}
CANCER_ONLY_EMERGENCY_KEYS = {"band_like_or_radiating_pain"}

# cancer= values
NO_CANCER = None  # emergency_rules(..., cancer_history=False)
CANCER_IN_TEXT = "text"  # the text says so: "cancer_history" must be in present
CANCER_ON_FILE = "profile"  # known from the patient's record, not from this text


def case(case_id, lang, text, key, *also_ok, cancer=NO_CANCER):
    """lang: "en", "es" or "mix" (Spanglish)."""
    return pytest.param(text, (key,) + also_ok, cancer, lang, id=f"{key}-{lang}-{case_id}")


# Frequently accepted alternatives (all EMERGENCY keys themselves).
LEGS = ("leg_numbness_tingling", "leg_weakness")
CHEST = ("heart_attack_signs", "chest_pain_with_sob")
BREATH = ("sudden_severe_breathlessness", "chest_pain_with_sob")

CASES = [
    # ------------------------------------------------------------------
    # E01 leg_weakness
    # ------------------------------------------------------------------
    case("weak-heavy", "en", "my legs feel really weak and heavy today", "leg_weakness"),
    case(
        "gave-out-caps",
        "en",
        "MY LEGS GAVE OUT IN THE KITCHEN",
        "leg_weakness",
        "sudden_arm_or_leg_weakness",
    ),
    case(
        "jelly",
        "en",
        "legs went to jelly walking to the bathroom, had to hold the wall",
        "leg_weakness",
        "sudden_arm_or_leg_weakness",
    ),
    case("cant-walk-shorthand", "en", "cant walk properly my legs r so weak", "leg_weakness"),
    case(
        "walking-harder",
        "en",
        "walking is way harder than yesterday, keep tripping over my own feet",
        "leg_weakness",
    ),
    case("giving-way", "en", "my legs keep giving way on me", "leg_weakness"),
    case("like-lead", "en", "legs feel like lead, can barely get up the stairs", "leg_weakness"),
    case("i-cant-walk", "en", "I can't walk", "leg_weakness"),
    case("wont-hold-me", "en", "legs wont hold me up", "leg_weakness"),
    case(
        "wobbly",
        "en",
        "so wobbly on my feet today nearly fell twice, legs just not working right",
        "leg_weakness",
    ),
    case("typo-weeak", "en", "my legs are realy weeak and shaky", "leg_weakness"),
    case(
        "denies-numb-but-buckling",
        "en",
        "No numbness. But my legs keep buckling when I stand up",
        "leg_weakness",
    ),
    case(
        "yes-no-answer",
        "en",
        "no to the numbness, yes to the weakness",
        "leg_weakness",
        "sudden_arm_or_leg_weakness",
    ),
    case(
        "no-fever-no-cough-but",
        "en",
        "I dont have a fever and im not coughing but my legs are super weak today",
        "leg_weakness",
    ),
    case(
        "dragging-foot",
        "en",
        "dragging my right foot when i walk since this morning",
        "leg_weakness",
        "sudden_arm_or_leg_weakness",
    ),
    case("debiles", "es", "tengo las piernas muy débiles y me cuesta caminar", "leg_weakness"),
    case("se-doblan", "es", "no puedo caminar, se me doblan las piernas", "leg_weakness"),
    case("pesadas", "es", "siento las piernas pesadas desde anoche", "leg_weakness"),
    case("aflojan-mx", "es", "se me aflojan las piernas bien feo cuando camino", "leg_weakness"),
    case("andar-spain", "es", "casi no puedo andar, las piernas no me responden", "leg_weakness"),
    case(
        "flojitas-caribe",
        "es",
        "toy con las piernas flojitas y no pueo caminá bien",
        "leg_weakness",
    ),
    case("no-aguantan", "es", "mis piernas ya no me aguantan, me caí al pararme", "leg_weakness"),
    case(
        "sin-acentos",
        "es",
        "tengo las piernas debiles no puedo subir las escaleras",
        "leg_weakness",
    ),
    case(
        "spanglish", "mix", "my legs se sienten bien weak y no puedo caminar bien", "leg_weakness"
    ),
    # ------------------------------------------------------------------
    # E02 leg_numbness_tingling
    # ------------------------------------------------------------------
    case("plain", "en", "my legs are numb", "leg_numbness_tingling"),
    case("typo-numbess", "en", "numbess in both legs since this morning", "leg_numbness_tingling"),
    case("typo-tingeling", "en", "tingeling in my feet and up my legs", "leg_numbness_tingling"),
    case("legz", "en", "cant feel my legz", *LEGS),
    case(
        "pins-needles",
        "en",
        "pins and needles in both legs that wont go away",
        "leg_numbness_tingling",
    ),
    case("no-fever-but-feet", "en", "no fever but I cant feel my feet", *LEGS),
    case("not-sob-numb-tho", "en", "not short of breath, legs numb tho", "leg_numbness_tingling"),
    case("shorthand-n", "en", "legs r numb n tingly", "leg_numbness_tingling"),
    case(
        "feet-asleep",
        "en",
        "both my feet feel like theyre asleep all the time now",
        "leg_numbness_tingling",
    ),
    case("caps-help", "en", "NUMB LEGS HELP", "leg_numbness_tingling"),
    case(
        "creeping-up",
        "en",
        "my toes went numb yesterday and now its creeping up to my knees",
        "leg_numbness_tingling",
    ),
    case("dead-legs", "en", "legs feel dead, like theres no feeling in them", *LEGS),
    case("stop-prefix", "en", "STOP my legs are numb", "leg_numbness_tingling"),
    case("duermen", "es", "se me duermen las piernas", "leg_numbness_tingling"),
    case("no-siento", "es", "no siento las piernas", *LEGS),
    case(
        "hormigueo", "es", "tengo hormigueo en las piernas y en los pies", "leg_numbness_tingling"
    ),
    case("entumidas-mx", "es", "siento las piernas entumidas desde ayer", "leg_numbness_tingling"),
    case(
        "adormecidas",
        "es",
        "tengo las piernas adormecidas, no sé si es normal",
        "leg_numbness_tingling",
    ),
    case(
        "no-fiebre-pero",
        "es",
        "no tengo fiebre pero se me duermen los pies",
        "leg_numbness_tingling",
    ),
    case(
        "ni-fiebre-ni-tos-pero",
        "es",
        "ni fiebre ni tos, pero se me duermen las piernas",
        "leg_numbness_tingling",
    ),
    case(
        "dormias-caribe",
        "es",
        "tengo las piernas dormías y como con hormiguitas",
        "leg_numbness_tingling",
    ),
    case(
        "piquetitos-mx",
        "es",
        "siento piquetitos en las piernas como agujas",
        "leg_numbness_tingling",
    ),
    case("shorthand-nd-q", "es", "no siento nd en las piernas q hago", *LEGS),
    case("spanglish-numbness", "mix", "tengo numbness en las dos piernas", "leg_numbness_tingling"),
    case("spanglish-feel", "mix", "me duele la espalda y no puedo feel my legs", *LEGS),
    # ------------------------------------------------------------------
    # E02 saddle_numbness
    # ------------------------------------------------------------------
    case("down-there", "en", "numb down there", "saddle_numbness"),
    case("when-i-wipe", "en", "i cant feel anything down there when i wipe", "saddle_numbness"),
    case("bum-thighs", "en", "my bum and inner thighs feel numb", "saddle_numbness"),
    case(
        "private-area", "en", "numbness around my private area since last night", "saddle_numbness"
    ),
    case(
        "butt-sat-on",
        "en",
        "my butt is numb like ive been sitting on it for hours but i havent",
        "saddle_numbness",
    ),
    case(
        "groin-tingling",
        "en",
        "tingling in my groin and between my legs",
        "saddle_numbness",
        "leg_numbness_tingling",
    ),
    case(
        "back-passage-uk",
        "en",
        "numb round my back passage and bits, is that normal?",
        "saddle_numbness",
    ),
    case("vagina", "en", "my vagina feels numb and my back is killing me", "saddle_numbness"),
    case("penis", "en", "cant feel my penis or balls properly, kind of numb", "saddle_numbness"),
    case("saddle-word", "en", "saddle area feels numb", "saddle_numbness"),
    case("typo-bottem", "en", "numbnes round my bottem", "saddle_numbness"),
    case("nalgas", "es", "tengo adormecidas las nalgas y entre las piernas", "saddle_numbness"),
    case("ahi-abajo", "es", "no siento nada ahí abajo", "saddle_numbness"),
    case(
        "muslos-partes",
        "es",
        "se me duerme la parte de adentro de los muslos y mis partes íntimas",
        "saddle_numbness",
    ),
    case("trasero-mx", "es", "siento entumido el trasero y mis partes", "saddle_numbness"),
    case(
        "al-limpiarme", "es", "cuando me limpio después del baño no siento nada", "saddle_numbness"
    ),
    # ------------------------------------------------------------------
    # E03 trouble_urinating ("can't"/"no" is part of the symptom)
    # ------------------------------------------------------------------
    case("cant-pee", "en", "can't pee", "trouble_urinating"),
    case("havent-been-able", "en", "haven't been able to pee since yesterday", "trouble_urinating"),
    case("dribble", "en", "struggling to pee, only a dribble comes out", "trouble_urinating"),
    case("cnt-tryin", "en", "cnt pee been tryin for hours", "trouble_urinating"),
    case(
        "nothing-comes-out",
        "en",
        "I need to pee really bad but nothing comes out",
        "trouble_urinating",
    ),
    case("trouble-peeing", "en", "trouble peeing since my back got worse", "trouble_urinating"),
    case("hard-to-start", "en", "its really hard to get my pee started now", "trouble_urinating"),
    case("cant-urinate", "en", "I can't urinate", "trouble_urinating"),
    case("full-cant-go", "en", "bladder feels full but i cant go", "trouble_urinating"),
    case(
        "no-urge-all-day",
        "en",
        "just realised I haven't peed all day and don't even feel like I need to",
        "trouble_urinating",
    ),
    case("caps", "en", "CANT PEE", "trouble_urinating"),
    case("no-puedo-orinar", "es", "no puedo orinar", "trouble_urinating"),
    case("pipi-manana", "es", "no puedo hacer pipí desde la mañana", "trouble_urinating"),
    case("cuesta", "es", "me cuesta mucho orinar", "trouble_urinating"),
    case("ganas-no-sale", "es", "tengo ganas de orinar pero no me sale nada", "trouble_urinating"),
    case("mear-spain", "es", "no he podido mear desde ayer", "trouble_urinating"),
    case(
        "no-fiebre-pero",
        "es",
        "no tengo fiebre, pero no puedo orinar desde ayer",
        "trouble_urinating",
    ),
    case("sin-acentos", "es", "no puedo hacer pipi", "trouble_urinating"),
    case("spanglish", "mix", "I can't hacer pipi desde anoche", "trouble_urinating"),
    # ------------------------------------------------------------------
    # E03 bladder_bowel_control_loss
    # ------------------------------------------------------------------
    case("wet-myself", "en", "wet myself", "bladder_bowel_control_loss"),
    case(
        "typo-myslef",
        "en",
        "peed myslef on the way to the bathroom and didnt even feel it coming",
        "bladder_bowel_control_loss",
    ),
    case(
        "pissed-myself", "en", "I pissed myself and didn't even know", "bladder_bowel_control_loss"
    ),
    case("pooped", "en", "pooped myself this morning", "bladder_bowel_control_loss"),
    case("no-control-bladder", "en", "no control of my bladder", "bladder_bowel_control_loss"),
    case("lost-control-bowels", "en", "lost control of my bowels", "bladder_bowel_control_loss"),
    case(
        "leaking", "en", "i keep leaking pee and I can't hold it in", "bladder_bowel_control_loss"
    ),
    case(
        "accident-in-pants",
        "en",
        "had an accident in my pants, couldnt hold it at all",
        "bladder_bowel_control_loss",
    ),
    case("shit-myself", "en", "shit myself and didnt feel it", "bladder_bowel_control_loss"),
    case("incontinence", "en", "incontinence started today", "bladder_bowel_control_loss"),
    case(
        "wet-bed",
        "en",
        "woke up in a wet bed, I'm 45, never happened before",
        "bladder_bowel_control_loss",
    ),
    case(
        "denials-then-sign",
        "en",
        "no chest pain, no cough, but I wet myself last night and didnt wake up",
        "bladder_bowel_control_loss",
    ),
    case(
        "stop-texting-plus",
        "en",
        "stop texting me. i peed myself and cant feel my legs",
        "bladder_bowel_control_loss",
        *LEGS,
    ),
    case("pipi-encima", "es", "me hice pipí encima", "bladder_bowel_control_loss"),
    case("pipi-encima-sin-acento", "es", "me hice pipi encima", "bladder_bowel_control_loss"),
    case("orine-encima", "es", "me oriné encima sin darme cuenta", "bladder_bowel_control_loss"),
    case("popo-ropa", "es", "me hice popó en la ropa y no lo sentí", "bladder_bowel_control_loss"),
    case(
        "no-aguanto-orina",
        "es",
        "no puedo aguantar la orina, se me sale",
        "bladder_bowel_control_loss",
    ),
    case("sale-solito", "es", "se me sale el pipí solito", "bladder_bowel_control_loss"),
    case(
        "cagado-spain",
        "es",
        "me he cagado encima y no me he enterado",
        "bladder_bowel_control_loss",
    ),
    case("meado-spain", "es", "me he meado encima", "bladder_bowel_control_loss"),
    case("control-vejiga", "es", "perdí el control de la vejiga", "bladder_bowel_control_loss"),
    case(
        "spanglish",
        "mix",
        "me hice pee en los pants sin darme cuenta",
        "bladder_bowel_control_loss",
    ),
    # ------------------------------------------------------------------
    # E04 sudden_arm_or_leg_weakness (stroke / acute cord signs)
    # ------------------------------------------------------------------
    case(
        "arm-dropped-coffee",
        "en",
        "my arm suddenly went weak and I dropped my coffee",
        "sudden_arm_or_leg_weakness",
    ),
    case(
        "arm-numb-sudden",
        "en",
        "left arm went numb all of a sudden",
        "sudden_arm_or_leg_weakness",
        "heart_attack_signs",
    ),
    case("face-drooping", "en", "my face is drooping on one side", "sudden_arm_or_leg_weakness"),
    case("slurred-wife-says", "en", "wife says my speech is slurred", "sudden_arm_or_leg_weakness"),
    case(
        "cant-lift-arm",
        "en",
        "cant lift my right arm, happened out of nowhere",
        "sudden_arm_or_leg_weakness",
    ),
    case(
        "face-numb-droopy",
        "en",
        "one side of my face feels numb and droopy",
        "sudden_arm_or_leg_weakness",
    ),
    case(
        "slurring",
        "en",
        "words coming out wrong, im slurring and i havent been drinking",
        "sudden_arm_or_leg_weakness",
    ),
    case(
        "arm-and-leg",
        "en",
        "sudden weakness in my right arm and leg",
        "sudden_arm_or_leg_weakness",
        "leg_weakness",
    ),
    case(
        "caps-arm-dead",
        "en",
        "ARM WENT DEAD OUT OF NOWHERE CANT MOVE IT",
        "sudden_arm_or_leg_weakness",
    ),
    case(
        "brazo-dormido",
        "es",
        "de repente se me durmió el brazo y no lo puedo mover",
        "sudden_arm_or_leg_weakness",
    ),
    case("cara-caida", "es", "tengo la cara caída de un lado", "sudden_arm_or_leg_weakness"),
    case(
        "mama-arrastra",
        "es",
        "mi mamá está hablando raro, arrastra las palabras",
        "sudden_arm_or_leg_weakness",
    ),
    case(
        "fuerza-de-golpe",
        "es",
        "se me fue la fuerza del brazo de golpe",
        "sudden_arm_or_leg_weakness",
    ),
    case(
        "boca-chueca-mx",
        "es",
        "se me puso la boca chueca y no puedo hablar bien",
        "sudden_arm_or_leg_weakness",
    ),
    # ------------------------------------------------------------------
    # E05 heart_attack_signs (any chest pain/pressure/tightness counts)
    # ------------------------------------------------------------------
    case("plain", "en", "chest pain", *CHEST),
    case("elephant", "en", "feels like an elephant on my chest", *CHEST),
    case("tight-left-arm", "en", "tight chest and pain going down my left arm", *CHEST),
    case("pressure-jaw", "en", "pressure in my chest and my jaw aches", *CHEST),
    case("sweaty-sick", "en", "sweaty and sick with chest pain", *CHEST),
    case("tight", "en", "my chest feels tight", *CHEST),
    case(
        "back-to-jaw-clammy",
        "en",
        "pain from my upper back going into my jaw and neck, feel clammy and sick",
        "heart_attack_signs",
    ),
    case("crushing", "en", "crushing pain in my chest", *CHEST),
    case("real-bad", "en", "chest hurts real bad", *CHEST),
    case("caps-sweating", "en", "CHEST PAIN AND SWEATING", *CHEST),
    case("squeezing-arm", "en", "squeezing in my chest spreading to my arm", *CHEST),
    case("shorthand-pn", "en", "chest pn & nauseous", *CHEST),
    case(
        "typo-pian",
        "en",
        "chest pian and my left arm feels heavy",
        *CHEST,
        "sudden_arm_or_leg_weakness",
    ),
    case("breathing-fine-but", "en", "breathing is fine but my chest feels tight", *CHEST),
    case("stop-dot", "en", "STOP. Chest pain.", *CHEST),
    case("pecho", "es", "me duele el pecho", *CHEST),
    case("presion-brazo", "es", "siento presión en el pecho y me duele el brazo izquierdo", *CHEST),
    case("quijada-mx", "es", "dolor de pecho y me duele la quijada", *CHEST),
    case("apretado-sudando", "es", "tengo el pecho apretado y estoy sudando frío", *CHEST),
    case("nauseas", "es", "me duele el pecho y tengo náuseas", *CHEST),
    case("opresion-spain", "es", "tengo una opresión en el pecho que me baja al brazo", *CHEST),
    case("shorthand-x-q", "es", "me duele el pecho x favor q hago", *CHEST),
    case("toy-caribe", "es", "toy con un dolor en el pecho que me tiene sudando", *CHEST),
    case("spanglish", "mix", "tengo chest pain desde hace una hora", *CHEST),
    # ------------------------------------------------------------------
    # E06 chest_pain_with_sob
    # ------------------------------------------------------------------
    case(
        "short-of-breath",
        "en",
        "chest pain and short of breath",
        "chest_pain_with_sob",
        "heart_attack_signs",
        "sudden_severe_breathlessness",
    ),
    case(
        "cant-catch-breath",
        "en",
        "sharp pain in my chest and i cant catch my breath",
        "chest_pain_with_sob",
        "heart_attack_signs",
        "sudden_severe_breathlessness",
    ),
    case(
        "hurts-to-breathe",
        "en",
        "chest hurts when i breathe and im really out of breath",
        "chest_pain_with_sob",
        "heart_attack_signs",
        "sudden_severe_breathlessness",
    ),
    case(
        "back-and-chest",
        "en",
        "upper back and chest pain, struggling to breathe",
        "chest_pain_with_sob",
        "heart_attack_signs",
        "sudden_severe_breathlessness",
    ),
    case(
        "w-sob",
        "en",
        "chest pain w/ sob",
        "chest_pain_with_sob",
        "heart_attack_signs",
        "sudden_severe_breathlessness",
    ),
    case(
        "caps",
        "en",
        "CHEST HURTS CANT BREATHE",
        "chest_pain_with_sob",
        "heart_attack_signs",
        "sudden_severe_breathlessness",
    ),
    case(
        "no-puedo-respirar",
        "es",
        "me duele el pecho y no puedo respirar",
        "chest_pain_with_sob",
        "heart_attack_signs",
        "sudden_severe_breathlessness",
    ),
    case(
        "falta-el-aire",
        "es",
        "dolor en el pecho y me falta el aire",
        "chest_pain_with_sob",
        "heart_attack_signs",
        "sudden_severe_breathlessness",
    ),
    case(
        "ahogo-spain",
        "es",
        "me duele el pecho y la espalda y me ahogo",
        "chest_pain_with_sob",
        "heart_attack_signs",
        "sudden_severe_breathlessness",
    ),
    case(
        "spanglish",
        "mix",
        "me duele el chest y no puedo breathe bien",
        "chest_pain_with_sob",
        "heart_attack_signs",
        "sudden_severe_breathlessness",
    ),
    # ------------------------------------------------------------------
    # E06 sudden_severe_breathlessness
    # ------------------------------------------------------------------
    case("cant-breathe", "en", "I cant breathe", *BREATH),
    case("struggling", "en", "struggling to breathe", *BREATH),
    case("too-breathless-to-talk", "en", "too breathless to talk", *BREATH),
    case("cant-finish-sentence", "en", "can barely breathe, cant finish a sentence", *BREATH),
    case("gasping", "en", "gasping for air", *BREATH),
    case("cnt", "en", "cnt breathe properly", *BREATH),
    case("not-enough-air", "en", "I can't get enough air in", *BREATH),
    case("blue-lips", "en", "my lips are going blue and I cant breathe", *BREATH),
    case("sob-cant-talk", "en", "sob so bad i cant talk", *BREATH),
    case("no-blood-but", "en", "no blood when i cough but i cant breathe properly", *BREATH),
    case("stop-texting-plus", "en", "stop texting me im struggling to breathe", *BREATH),
    case("no-puedo", "es", "no puedo respirar", *BREATH),
    case("me-ahogo", "es", "me ahogo", *BREATH),
    case("no-puedo-hablar", "es", "me falta mucho el aire, casi no puedo hablar", *BREATH),
    case("jadeando", "es", "estoy jadeando y no me entra el aire", *BREATH),
    case("pueo-caribe", "es", "no pueo respirá", *BREATH),
    case("shorthand-bn", "es", "no puedo respirar bn", *BREATH),
    # ------------------------------------------------------------------
    # E07 coughing_blood_large (unquantified "coughing up blood" included:
    # the brief lists "tosí sangre" as an emergency; fail-safe)
    # ------------------------------------------------------------------
    case("coughing-up-blood", "en", "coughing up blood", "coughing_blood_large"),
    case("mouthful", "en", "coughed up a mouthful of blood", "coughing_blood_large"),
    case("lots", "en", "coughing up lots of blood", "coughing_blood_large"),
    case(
        "half-a-cup",
        "en",
        "theres so much blood when i cough, like half a cup",
        "coughing_blood_large",
    ),
    case(
        "not-just-streaks",
        "en",
        "coughed up bright red blood, not just streaks",
        "coughing_blood_large",
    ),
    case("typo-coffing-clots", "en", "coffing up blood clots", "coughing_blood_large"),
    case(
        "tissue-soaked",
        "en",
        "my tissue was soaked in blood after coughing",
        "coughing_blood_large",
    ),
    case("caps", "en", "COUGHING BLOOD", "coughing_blood_large"),
    case("tosi-sangre", "es", "tosí sangre", "coughing_blood_large"),
    case("tosi-sin-acento", "es", "tosi sangre hace rato", "coughing_blood_large"),
    case("mucha", "es", "estoy tosiendo mucha sangre", "coughing_blood_large"),
    case("escupi-bastante", "es", "escupí bastante sangre al toser", "coughing_blood_large"),
    case("a-chorros", "es", "toso y me sale sangre a chorros", "coughing_blood_large"),
    case("flema-llena", "es", "la flema me sale llena de sangre", "coughing_blood_large"),
    # ------------------------------------------------------------------
    # E08 tearing_pain_sudden
    # ------------------------------------------------------------------
    case(
        "shoulder-blades",
        "en",
        "sudden tearing pain between my shoulder blades",
        "tearing_pain_sudden",
    ),
    case(
        "ripping-worst",
        "en",
        "out of nowhere a ripping pain in my back, worst pain ever",
        "tearing_pain_sudden",
    ),
    case(
        "ripped-inside",
        "en",
        "felt like something ripped inside my chest and back",
        "tearing_pain_sudden",
        *CHEST,
    ),
    case(
        "torn-apart",
        "en",
        "sudden severe pain like my back is being torn apart",
        "tearing_pain_sudden",
    ),
    case(
        "knife-ripping",
        "en",
        "all of a sudden a pain like a knife ripping through my upper back",
        "tearing_pain_sudden",
    ),
    case("caps", "en", "SUDDEN TEARING PAIN IN MY BACK", "tearing_pain_sudden"),
    case(
        "desgarrador", "es", "de repente un dolor desgarrador en la espalda", "tearing_pain_sudden"
    ),
    case(
        "desgarrando",
        "es",
        "siento como si me estuvieran desgarrando por dentro, empezó de golpe",
        "tearing_pain_sudden",
    ),
    case(
        "omoplatos",
        "es",
        "dolor repentino como un desgarro entre los omóplatos",
        "tearing_pain_sudden",
    ),
    case(
        "rasgaba",
        "es",
        "de pronto sentí como que se me rasgaba algo en el pecho y la espalda",
        "tearing_pain_sudden",
        *CHEST,
    ),
    # ------------------------------------------------------------------
    # E09 major_trauma
    # ------------------------------------------------------------------
    case(
        "car-crash", "en", "was in a car crash this morning and now my back hurts", "major_trauma"
    ),
    case("ladder-10ft", "en", "fell off a ladder, about 10 feet", "major_trauma"),
    case("bike-hit", "en", "got hit by a car on my bike", "major_trauma"),
    case("motorcycle", "en", "motorcycle accident yesterday, back is killing me", "major_trauma"),
    case("scaffolding", "en", "fell from scaffolding at work", "major_trauma"),
    case(
        "rear-ended",
        "en",
        "got rear ended on the freeway doing 60, upper back hurts now",
        "major_trauma",
    ),
    case("roof", "en", "fell off the roof cleaning the gutters", "major_trauma"),
    case("horse", "en", "got thrown off my horse and landed on my back", "major_trauma"),
    case("typo-acident", "en", "car acident last nite, back and neck realy sore", "major_trauma"),
    case("carro-mx", "es", "tuve un accidente de carro y me duele la espalda", "major_trauma"),
    case("coche-spain", "es", "he tenido un accidente con el coche esta mañana", "major_trauma"),
    case("techo", "es", "me caí del techo arreglando la antena", "major_trauma"),
    case("atropello", "es", "me atropelló una moto", "major_trauma"),
    case("escalera-alta", "es", "me caí de una escalera bien alta", "major_trauma"),
    case("choque", "es", "choqué en la carretera y me duele todo", "major_trauma"),
    # ------------------------------------------------------------------
    # E11 sepsis_signs
    # ------------------------------------------------------------------
    case("confused", "en", "high fever and im confused, cant think straight", "sepsis_signs"),
    case(
        "blotchy-fast",
        "en",
        "burning up, breathing really fast and my skin looks blotchy",
        "sepsis_signs",
        "sudden_severe_breathlessness",
    ),
    case(
        "blue-lips",
        "en",
        "fever of 39.5 and my lips look blue",
        "sepsis_signs",
        "sudden_severe_breathlessness",
    ),
    case(
        "dad-proxy",
        "en",
        "my dad has a fever and he's confused, not making any sense",
        "sepsis_signs",
    ),
    case("mottled", "en", "temp 103 and my skin has gone all mottled, feel awful", "sepsis_signs"),
    case("confundido", "es", "tengo mucha fiebre y estoy confundido", "sepsis_signs"),
    case(
        "calentura-mx",
        "es",
        "tengo calentura, respiro muy rápido y tengo la piel manchada",
        "sepsis_signs",
        "sudden_severe_breathlessness",
    ),
    case(
        "abuela",
        "es",
        "mi abuela tiene fiebre y está desorientada, no sabe dónde está",
        "sepsis_signs",
    ),
    # ------------------------------------------------------------------
    # E12 mental_health_crisis
    # ------------------------------------------------------------------
    case("kill-myself", "en", "I want to kill myself", "mental_health_crisis"),
    case("not-be-here", "en", "i dont want to be here anymore", "mental_health_crisis"),
    case(
        "ending-it-all",
        "en",
        "thinking about ending it all, this pain never stops",
        "mental_health_crisis",
    ),
    case("cutting", "en", "I've been cutting myself again", "mental_health_crisis"),
    case("wanna-die", "en", "wanna die", "mental_health_crisis"),
    case("kms", "en", "kms this pain is too much", "mental_health_crisis"),
    case(
        "take-all-pills",
        "en",
        "might just take all my pills and be done with it",
        "mental_health_crisis",
    ),
    case("suicidal", "en", "feeling suicidal", "mental_health_crisis"),
    case(
        "better-off-dead",
        "en",
        "everyone would be better off if I was dead",
        "mental_health_crisis",
    ),
    case("stop-prefix", "en", "STOP I want to die", "mental_health_crisis"),
    case("quiero-morir", "es", "me quiero morir", "mental_health_crisis"),
    case("no-quiero-vivir", "es", "ya no quiero vivir", "mental_health_crisis"),
    case("me-voy-a-matar", "es", "me voy a matar", "mental_health_crisis"),
    case("quitarme-la-vida", "es", "quiero quitarme la vida", "mental_health_crisis"),
    case("cortando", "es", "me he estado cortando otra vez", "mental_health_crisis"),
    case("sin-acentos", "es", "ya no aguanto mas, me quiero matar", "mental_health_crisis"),
    # ------------------------------------------------------------------
    # E10 band_like_or_radiating_pain + cancer history
    # ------------------------------------------------------------------
    case(
        "tummy-band",
        "en",
        "had breast cancer 2 yrs ago, now theres a band of pain around my tummy",
        "band_like_or_radiating_pain",
        cancer=CANCER_IN_TEXT,
    ),
    case(
        "arm-chemo",
        "en",
        "pain shooting down my right arm. I'm on chemo for lung cancer",
        "band_like_or_radiating_pain",
        "heart_attack_signs",
        cancer=CANCER_IN_TEXT,
    ),
    case(
        "cinturon",
        "es",
        "tuve cáncer de próstata y ahora tengo un dolor como un cinturón alrededor de la panza",
        "band_like_or_radiating_pain",
        cancer=CANCER_IN_TEXT,
    ),
    case(
        "belt-on-file",
        "en",
        "pain wraps all the way around my middle like a tight belt",
        "band_like_or_radiating_pain",
        cancer=CANCER_ON_FILE,
    ),
    case(
        "spine-to-stomach-on-file",
        "en",
        "sharp pains shooting round from my spine to my stomach like a band",
        "band_like_or_radiating_pain",
        cancer=CANCER_ON_FILE,
    ),
    case(
        "corrientazo-on-file",
        "es",
        "tengo un dolor que me baja por el brazo como un corrientazo",
        "band_like_or_radiating_pain",
        "heart_attack_signs",
        cancer=CANCER_ON_FILE,
    ),
    # ------------------------------------------------------------------
    # Long rambling messages with the sign buried
    # ------------------------------------------------------------------
    case(
        "ramble-cotton-wool-feet",
        "en",
        "Hi, sorry to bother you, it's Maria. So my back has been hurting between the "
        "shoulder blades for about three weeks now, I thought it was from moving house, "
        "I've been taking ibuprofen and using a heat pad which helps a bit, my daughter "
        "says I should rest more, anyway this morning I noticed I couldn't really feel my "
        "feet when I got out of bed, they feel like cotton wool, is that normal? Also the "
        "dog has been keeping me up lol",
        "leg_numbness_tingling",
        "leg_weakness",
    ),
    case(
        "ramble-physio-then-stop",
        "en",
        "ok so long story. went to physio tuesday, she did some massage and gave me "
        "exercises, the pain is still there mostly when i sit at work. last night i went to "
        "pee and nothing came out even tho i really needed to, tried again this morning same "
        "thing. anyway should i keep doing the exercises or stop?",
        "trouble_urinating",
    ),
    case(
        "ramble-gave-out-sidewalk",
        "en",
        "hey so i know i said it was getting better last week and it kinda was, did the "
        "stretches, went back to the gym (just light stuff), but yesterday walking back from "
        "the store my legs just gave out and i ended up on the sidewalk, got up fine but they "
        "still feel weird and heavy today. back is about a 5/10. when is my next check in?",
        "leg_weakness",
        "sudden_arm_or_leg_weakness",
    ),
    case(
        "ramble-smoker-squeezing",
        "en",
        "Not sure if this matters but I've had this ache in my upper back for a month and "
        "I'm a smoker, I get out of breath on the stairs which is normal for me, but tonight "
        "the pain moved into my chest and it feels like someone is squeezing it. Probably "
        "nothing",
        *CHEST,
    ),
    case(
        "ramble-checkin-trouble-peeing",
        "en",
        "Hi yes still doing the stretches. back's about the same maybe a bit better. oh and "
        "I forgot to say since last week I've had a bit of trouble peeing but it's probably "
        "nothing, I've been drinking less water",
        "trouble_urinating",
    ),
    case(
        "ramble-pipi-encima",
        "es",
        "Buenas tardes, le escribo porque mi espalda sigue igual, me duele arriba entre los "
        "hombros, ya fui con el doctor y me dio pastillas, me las tomo pero no me hacen nada, "
        "mi esposo dice que es por el trabajo porque cargo cajas, lo que me preocupa es que "
        "desde ayer me hice pipí encima dos veces sin darme cuenta, y no sé si eso tiene que "
        "ver, gracias",
        "bladder_bowel_control_loss",
    ),
    case(
        "ramble-hormigueo-mx",
        "es",
        "Buenas noches disculpe la hora, mire le cuento, desde hace como 2 semanas traigo un "
        "dolor en la espalda de arriba, yo pensé que era de tanto cargar en el trabajo, me "
        "estuve poniendo pomada y nada, y hoy en la tarde se me empezaron a dormir las "
        "piernas y siento como hormigueo hasta los pies, mi esposo dice que vaya al seguro "
        "mañana pero no sé",
        "leg_numbness_tingling",
    ),
    case(
        "ramble-mama-cancer-proxy",
        "es",
        "Mi mamá (72) no habla bien el inglés así que le escribo yo. Le duele la espalda de "
        "arriba desde hace semanas, tuvo cáncer de mama hace 5 años. Hoy dice que no siente "
        "las piernas y casi no puede caminar.",
        *LEGS,
    ),
]


@pytest.mark.parametrize(("text", "keys", "cancer", "lang"), CASES)
def test_warning_sign_is_recognised(text, keys, cancer, lang):
    a = _analyze(text)
    found = set(a.present) & set(keys)
    assert found, (
        f"missed warning sign in {text!r}: expected one of {sorted(keys)}, "
        f"got present={sorted(a.present)}"
    )
    if cancer == CANCER_IN_TEXT:
        assert "cancer_history" in a.present, (
            f"cancer history stated in {text!r} not recognised: {sorted(a.present)}"
        )


@pytest.mark.parametrize(("text", "keys", "cancer", "lang"), CASES)
def test_text_is_an_emergency(text, keys, cancer, lang):
    a = _analyze(text)
    has_cancer = cancer in (CANCER_IN_TEXT, CANCER_ON_FILE)
    rules = _emergency_rules(a.present, cancer_history=has_cancer)
    assert rules, (
        f"UNDER-TRIAGE: {text!r} gave no emergency rule "
        f"(present={sorted(a.present)}, cancer_history={has_cancer})"
    )


def test_corpus_covers_every_emergency_key_in_english_and_spanish():
    """Guard the corpus itself (runs without the recogniser)."""
    by_key = {}
    for p in CASES:
        _text, keys, _cancer, lang = p.values
        by_key.setdefault(keys[0], set()).add(lang)
    for key in sorted(EMERGENCY_KEYS | CANCER_ONLY_EMERGENCY_KEYS):
        assert key in by_key, f"no case written for {key}"
        assert {"en", "es"} <= by_key[key], f"{key} lacks an en or es case: {by_key[key]}"
    assert set(by_key) <= EMERGENCY_KEYS | CANCER_ONLY_EMERGENCY_KEYS
    ids = [p.id for p in CASES]
    assert len(ids) == len(set(ids)), "duplicate case ids"
    assert len(CASES) >= 150
