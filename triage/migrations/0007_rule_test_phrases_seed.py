"""Seed Rule.test_phrases: texts as people really send them (typos, shorthand, Spanish) that each
emergency rule, and the urgent rules a single text can trigger, must keep matching.

The pre-publish checks (clinic/checks.py) run every one through the engine with the current
content, so an edit to extra phrases or keywords that stops one matching is flagged. Only empty
fields are filled: phrases staff already wrote are never overwritten. E00 has none (it is the
YES to the screening question, checked by the question checks), nor have U08/U09 (combinations
of several answers, covered by saved test conversations).
"""

from django.db import migrations

TEST_PHRASES = {
    "E01": [
        "my legs feel really weak and heavy",
        "cant walk properly my legs r so weak",
        "se me doblan las piernas",
        "tengo las piernas muy debiles y me cuesta caminar",
    ],
    "E02": [
        "cant feel my legs",
        "numbess in both legs since this morning",
        "se me duermen las piernas",
        "tengo hormigueo en las piernas",
    ],
    "E03": [
        "wet myself and didnt even notice",
        "cant pee since yesterday",
        "no puedo orinar",
        "se me sale la orina sin darme cuenta",
    ],
    "E04": [
        "my arm suddenly went weak and my face is drooping",
        "my face is drooping and my speech is slurred",
        "cara caida y hablo raro",
    ],
    "E05": [
        "crushing chest pain going down my arm",
        "chest pain and sweating and feel sick",
        "me duele mucho el pecho y el brazo izquierdo",
        "opresion en el pecho",
    ],
    "E06": [
        "so out of breath i cant talk",
        "cant breathe",
        "me ahogo no puedo ni hablar",
        "no puedo respirar",
    ],
    "E07": [
        "coughing up loads of blood",
        "coughing up blood clots",
        "escupo mucha sangre al toser",
    ],
    "E08": [
        "sudden ripping pain between my shoulder blades",
        "torn feeling in my back, came on all of a sudden",
        "dolor de golpe como si me desgarraran entre los omoplatos",
    ],
    "E09": [
        "car crash this morning and now my back is killing me",
        "fell off a ladder from the roof",
        "tuve un accidente de coche y me duele la espalda",
        "me cai del techo ayer",
    ],
    "E10": [
        "i had breast cancer and now pain like a band around my chest",
        "i had cancer and pain shooting down my arm",
        "tuve cancer de mama y el dolor me baja por el brazo",
    ],
    "E11": [
        "fever and confused",
        "fever and my skin is blotchy and breathing really fast",
        "fiebre y estoy muy confundido",
    ],
    "E12": [
        "I want to kill myself",
        "want to end it all",
        "ya no quiero vivir",
        "me quiero morir",
    ],
    "U01": [
        "i had breast cancer 5 yrs ago and now my back hurts",
        "tuve cancer de prostata y me duele la espalda",
    ],
    "U02": ["coughed up a few specks of blood", "tosi con unos puntitos de sangre"],
    "U03": ["i have a fever and my back hurts", "tengo fiebre y me duele la espalda"],
    "U04": ["lost a stone without trying", "he bajado mucho de peso sin querer"],
    "U05": ["pain wakes me up at night", "hurts even when im resting", "me duele mas de noche"],
    "U06": ["hurts when i cough or sneeze", "me duele al toser"],
    "U07": ["hurts to take a deep breath", "me duele al respirar hondo"],
    "U10": ["theres a lump on my spine", "tengo un bulto en la espalda"],
    "U11": ["pain is 9/10", "the pain is unbearable", "dolor insoportable"],
    "U12": ["out of breath even sitting down", "me falta el aire aunque este sentado"],
}


def seed(apps, schema_editor):
    Rule = apps.get_model("triage", "Rule")
    for rule_id, phrases in TEST_PHRASES.items():
        Rule.objects.filter(rule_id=rule_id, test_phrases="").update(
            test_phrases="\n".join(phrases)
        )


class Migration(migrations.Migration):
    dependencies = [("triage", "0006_rule_test_phrases")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
