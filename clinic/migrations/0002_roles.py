from django.db import migrations


def sync(apps, schema_editor):
    from clinic.roles import roles_sync

    roles_sync(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("clinic", "0001_initial"),
        ("triage", "0005_content_history_baseline"),
        ("reminders", "0003_plan_history"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(sync, migrations.RunPython.noop)]
