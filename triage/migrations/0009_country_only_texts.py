"""Each country's texts name only that country's services: a US number is no longer told about
NHS 111 or 999, nor a +44 number about 911 or urgent care (outcome.urgent named both).

A stored text is replaced only while it is still the text this migration was written against:
a clinic's own wording is left alone (the pre-publish checks then say its UK variant is still
the original). The new UK ("_gb") variants are added where missing. Each change gets a history
record, so staff can see it and revert it, and a content version, so outcomes record it.
The texts are written out here, not read from triage/defaults.py, which will change again.
"""

# Each SMS stays on one line, as sent, so old and new can be compared by eye.
# ruff: noqa: E501

from django.db import migrations
from django.utils import timezone

REASON = "each country's texts name only its own services"

# (key, language): (text before, text after)
CHANGED = {
    ("outcome.urgent", "en"): (
        "Please speak to a doctor or nurse today (UK: urgent GP appt or NHS 111; US: your doctor or urgent care). If worse or new numbness/weakness: 911/999.",
        "Please speak to a doctor or nurse today: call your doctor or go to urgent care. If it gets worse or you get new numbness/weakness, call 911.",
    ),
    ("outcome.urgent_cancer", "en"): (
        "Because you've had cancer, contact your cancer team or their 24h line today. New leg weakness/numbness or bladder problems: call 911/999 now.",
        "Because you've had cancer, contact your cancer team or their 24h line today. New leg weakness/numbness or bladder problems: call 911 now.",
    ),
    ("outcome.disclaimer", "en"): (
        "Automated info service, not a diagnosis or medical advice, not monitored 24/7. Emergency: call 911 (US) or 999 (UK). Reply STOP to end, HELP for help.",
        "Automated info service, not a diagnosis or medical advice, not monitored 24/7. Emergency: call 911. Reply STOP to end, HELP for help.",
    ),
    ("outcome.crisis", "en"): (
        "You matter. Please call or text 988 now (US) to talk to someone, or call 911. UK: call 999 or Samaritans 116 123. You are not alone.",
        "You matter. Please call or text 988 now to talk to someone, or call 911. You are not alone.",
    ),
    ("outcome.lower_back", "en"): (
        "This service is for upper back pain. For lower back pain see nhs.uk or your doctor. If legs go numb/weak or you can't pee, call 911/999.",
        "This service is for upper back pain. For lower back pain see your doctor. If your legs go numb/weak or you can't pee, call 911.",
    ),
    ("sys.help", "en"): (
        "{service}: automated back-pain info, max 3 msgs/wk. Not for emergencies: call 911/999. STOP to end. Help: {contact}. Msg&data rates may apply.",
        "{service}: automated back-pain info, max 3 msgs/wk. Not for emergencies: call 911. STOP to end. Help: {contact}. Msg&data rates may apply.",
    ),
    ("sys.optout", "en"): (
        "You're unsubscribed from BackCheck and will get no more messages. If you have an emergency, call 911 (US) or 999 (UK).",
        "You're unsubscribed from BackCheck and will get no more messages. If you have an emergency, call 911.",
    ),
    ("sys.optout_emergency", "en"): (
        "You're unsubscribed from BackCheck. What you describe could be serious: call 911 (US) or 999 (UK) or go to the ER now. Do not drive yourself.",
        "You're unsubscribed from BackCheck. What you describe could be serious: call 911 or go to the ER now. Do not drive yourself.",
    ),
    ("sys.optout_crisis", "en"): (
        "You're unsubscribed from BackCheck. If you might hurt yourself, call or text 988 (US), call 999 or Samaritans 116 123 (UK), or 911 now.",
        "You're unsubscribed from BackCheck. If you might hurt yourself, call or text 988 now, or call 911. You are not alone.",
    ),
    ("sys.after_emergency", "en"): (
        "If you haven't yet, call 911 (999 in the UK) or go to the ER now. When you're safe, text RESTART to start a new check.",
        "If you haven't yet, call 911 or go to the ER now. When you're safe, text RESTART to start a new check.",
    ),
}

# The UK variants that did not exist: a +44 number got the mixed US text instead.
ADDED = {
    "sys.help_gb": {
        "en": "{service}: automated back-pain info, max 3 msgs/wk. Not for emergencies: call 999. STOP to end. Help: {contact}. Msg&data rates may apply.",
        "es": "{service}: info automatizada de dolor de espalda, max 3 msj/sem. No es para emergencias: 999. STOP para salir. Ayuda: {contact}. Aplican tarifas.",
    },
    "sys.optout_gb": {
        "en": "You're unsubscribed from BackCheck and will get no more messages. If you have an emergency, call 999.",
        "es": "Se ha dado de baja de BackCheck y no recibira mas mensajes. Si tiene una emergencia, llame al 999.",
    },
    "sys.optout_emergency_gb": {
        "en": "You're unsubscribed from BackCheck. What you describe could be serious: call 999 or go to A&E now. Do not drive yourself.",
        "es": "Se ha dado de baja de BackCheck. Lo que describe puede ser grave: llame al 999 o vaya a urgencias ahora. No conduzca.",
    },
    "sys.optout_crisis_gb": {
        "en": "You're unsubscribed from BackCheck. If you might hurt yourself, call Samaritans free on 116 123, or call 999 now. You are not alone.",
        "es": "Se ha dado de baja de BackCheck. Si piensa hacerse dano, llame gratis a Samaritans al 116 123 o al 999 ahora. No esta solo.",
    },
    "outcome.crisis_gb": {
        "en": "You matter. Please call Samaritans free on 116 123 now to talk to someone, or call 999. You are not alone.",
        "es": "Usted importa. Llame gratis a Samaritans al 116 123 ahora para hablar con alguien, o llame al 999. No esta solo.",
    },
    "outcome.urgent_gb": {
        "en": "Please speak to a doctor or nurse today: ask your GP for an urgent appointment or call NHS 111. If worse or new numbness/weakness: call 999.",
        "es": "Hable hoy con un medico o enfermera: pida cita urgente a su medico de cabecera (GP) o llame al NHS 111. Si empeora o nota adormecimiento/debilidad: 999.",
    },
    "outcome.urgent_cancer_gb": {
        "en": "Because you've had cancer, contact your cancer team or their 24h line today. New leg weakness/numbness or bladder problems: call 999 now.",
        "es": "Como ha tenido cancer, llame hoy a su equipo de oncologia o su linea de 24 h. Si nota debilidad o adormecimiento nuevo en las piernas: 999.",
    },
    "outcome.disclaimer_gb": {
        "en": "Automated info service, not a diagnosis or medical advice, not monitored 24/7. Emergency: call 999. Reply STOP to end, HELP for help.",
        "es": "Servicio automatizado, no es un diagnostico ni consejo medico, no se vigila 24 h. Emergencia: llame al 999. STOP para salir, AYUDA para ayuda.",
    },
    "outcome.lower_back_gb": {
        "en": "This service is for upper back pain. For lower back pain see nhs.uk or your GP. If your legs go numb/weak or you can't pee, call 999.",
        "es": "Este servicio es para dolor de espalda alta. Para dolor lumbar vea nhs.uk o a su medico de cabecera. Si las piernas se duermen o debilitan o no orina: 999.",
    },
}


def _record(Historical, row, history_type, now):
    fields = [f.attname for f in row._meta.concrete_fields]
    return Historical(
        **{f: getattr(row, f) for f in fields},
        history_date=now,
        history_type=history_type,
        history_change_reason=REASON,
    )


def _apply(apps, changes):
    ContentMessage = apps.get_model("triage", "ContentMessage")
    Historical = apps.get_model("triage", "HistoricalContentMessage")
    now = timezone.now()
    records = []
    for (key, language), (before, after) in changes.items():
        for row in ContentMessage.objects.filter(key=key, language=language):
            if row.text.strip() != before:
                continue  # edited in admin: the clinic's wording stays
            # update(), not save(): no signal, so the same single record with either model class
            ContentMessage.objects.filter(pk=row.pk).update(text=after, updated_at=now)
            row.text, row.updated_at = after, now
            records.append(_record(Historical, row, "~", now))
    return records, now


def forwards(apps, schema_editor):
    ContentMessage = apps.get_model("triage", "ContentMessage")
    Historical = apps.get_model("triage", "HistoricalContentMessage")
    records, now = _apply(apps, CHANGED)
    for key, texts in ADDED.items():
        for language, text in texts.items():
            row, created = ContentMessage.objects.get_or_create(
                key=key, language=language, defaults={"text": text, "category": key.split(".")[0]}
            )
            if created:
                records.append(_record(Historical, row, "+", now))
    Historical.objects.bulk_create(records)
    if records:
        apps.get_model("triage", "ContentVersion").objects.create(summary=REASON[:200])


def backwards(apps, schema_editor):
    # The added UK variants stay (deleting content is refused in admin too); the changed texts
    # go back to their old wording where nobody has edited them since.
    records, _ = _apply(apps, {k: (after, before) for k, (before, after) in CHANGED.items()})
    apps.get_model("triage", "HistoricalContentMessage").objects.bulk_create(records)


class Migration(migrations.Migration):
    dependencies = [("triage", "0008_message_person_recent_new_texts")]
    operations = [migrations.RunPython(forwards, backwards)]
