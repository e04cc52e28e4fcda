"""A first history record ("created") for every content row that exists now, so the first
edit a staff member makes can be reverted to the text it replaced."""

from django.db import migrations
from django.utils import timezone

CONTENT = {
    "triage": ("ContentMessage", "AnswerWord", "Keyword", "Rule"),
    "reminders": ("CheckinStep", "SendingWindow"),
}


def baseline(apps, schema_editor):
    now = timezone.now()
    for app_label, names in CONTENT.items():
        for name in names:
            model = apps.get_model(app_label, name)
            historical = apps.get_model(app_label, f"Historical{name}")
            fields = [f.attname for f in model._meta.concrete_fields]
            historical.objects.bulk_create(
                [
                    historical(
                        **{f: getattr(row, f) for f in fields},
                        history_date=now,
                        history_type="+",
                        history_change_reason="content as first installed",
                    )
                    for row in model.objects.all()
                ]
            )
    apps.get_model("triage", "ContentVersion").objects.create(summary="content as first installed")




class Migration(migrations.Migration):
    dependencies = [
        ("triage", "0004_clinic_side"),
        ("reminders", "0003_plan_history"),
    ]

    operations = [migrations.RunPython(baseline, migrations.RunPython.noop)]
