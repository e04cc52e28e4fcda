"""Install the default check-in plan, the 09:00-20:00 sending window and the check-in texts.

Rows are created only when missing, so edits made in admin survive every later migrate.
"""

from django.db import migrations

from reminders import defaults
from triage import defaults as triage_defaults


def install(apps, schema_editor):
    CheckinStep = apps.get_model("reminders", "CheckinStep")
    SendingWindow = apps.get_model("reminders", "SendingWindow")
    ContentMessage = apps.get_model("triage", "ContentMessage")

    for tier, offset_days, kind, message_key in defaults.PLAN:
        CheckinStep.objects.get_or_create(
            tier=int(tier),
            offset_days=offset_days,
            defaults={"kind": kind, "message_key": message_key},
        )
    if not SendingWindow.objects.exists():
        SendingWindow.objects.create()
    # Databases installed before check-ins existed get the new texts too.
    for key, texts in triage_defaults.MESSAGES.items():
        for language, text in texts.items():
            ContentMessage.objects.get_or_create(
                key=key,
                language=language,
                defaults={"text": text, "category": key.split(".", 1)[0]},
            )


class Migration(migrations.Migration):
    dependencies = [
        ("reminders", "0001_initial"),
        ("triage", "0003_person_timezone_checkin_category"),
    ]
    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
