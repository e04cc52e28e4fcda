"""Default saved test conversations: one per main path through the triage, in English and
Spanish, so `manage.py check_conversations` (and the Run all button) tells at once when a
content edit changes what a patient is told. Created only when no case has the name.
Tiers: 0 routine, 1 soon, 2 urgent, 3 emergency.
"""

from django.db import migrations

CASES = [
    # name, texts, expected tier, language ("" = detected), UK number
    (
        "Routine: strain after lifting (EN)",
        [
            "my upper back hurts after lifting a box",
            "no",
            "no",
            "none",
            "3 better",
            "3 days, lifting, 30",
            "none",
        ],
        0,
        "",
        False,
    ),
    (
        "Routine: contractura al cargar (ES)",
        [
            "me duele la parte alta de la espalda desde que cargue una caja",
            "no",
            "no",
            "nada",
            "3 mejor",
            "3 dias, cargando peso, 30",
            "nada",
        ],
        0,
        "",
        False,
    ),
    ("Emergency: numb legs, typo (EN)", ["numbess in both legs since this morning"], 3, "", False),
    (
        "Emergency: legs go numb mid-conversation (EN)",
        ["my upper back hurts after lifting a box", "no", "actually i cant feel my legz now"],
        3,
        "",
        False,
    ),
    (
        "Emergencia: se me duermen las piernas (ES)",
        ["me duele la espalda y se me duermen las piernas"],
        3,
        "",
        False,
    ),
    (
        "Emergency: wet myself (EN)",
        ["back pain between my shoulders", "wet myself and didnt even notice"],
        3,
        "",
        False,
    ),
    (
        "Emergencia: no puedo orinar (ES)",
        ["no puedo orinar desde ayer y me duele la espalda"],
        3,
        "",
        False,
    ),
    ("Emergency: chest pain, cant breth (EN)", ["chest pain and cant breth"], 3, "", False),
    (
        "Emergencia: me falta el aire y me duele el pecho (ES)",
        ["me falta el aire y me duele el pecho"],
        3,
        "",
        False,
    ),
    ("Emergency: YES to the first screen (EN)", ["upper back pain", "YES"], 3, "", False),
    ("Emergencia: SI a la primera pregunta (ES)", ["dolor de espalda alta", "si"], 3, "es", False),
    ("Emergency: STOP and numb legs in one text", ["STOP my legs are numb"], 3, "", False),
    ("Emergency: UK number, legs giving way (999)", ["my legs keep giving way"], 3, "", True),
    (
        "Emergency: cancer history and band pain (E10)",
        ["upper back pain", "no", "no", "A", "yes"],
        3,
        "",
        False,
    ),
    (
        "Urgent: pain at night (EN)",
        ["my upper back hurts", "no", "no", "D"],
        2,
        "",
        False,
    ),
    (
        "Urgent: cancer history, no band pain (EN)",
        ["upper back pain", "no", "no", "A", "no"],
        2,
        "",
        False,
    ),
    (
        "Soon: 8 weeks of pain (EN)",
        ["my upper back has hurt for 8 weeks", "no", "no", "none", "4 same", "lifting, 35"],
        1,
        "",
        False,
    ),
    (
        "Soon: dolor desde hace 2 meses (ES)",
        [
            "me duele la espalda alta desde hace 2 meses",
            "no",
            "no",
            "nada",
            "4 igual",
            "cargando cajas, 35",
        ],
        1,
        "",
        False,
    ),
]


def seed(apps, schema_editor):
    SavedConversation = apps.get_model("clinic", "SavedConversation")
    for name, texts, tier, language, uk_number in CASES:
        SavedConversation.objects.get_or_create(
            name=name,
            defaults={
                "texts": "\n".join(texts),
                "expected_tier": tier,
                "language": language,
                "uk_number": uk_number,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("clinic", "0002_roles")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
