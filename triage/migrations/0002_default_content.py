"""Install the default content: messages (EN/ES), answer words, keywords and the rule table.

Rows are created only when missing (by their natural key), so an edit made in admin is never
overwritten by this or any later migrate.
"""

from django.db import migrations

from triage import defaults
from triage.rules import Tier


def install(apps, schema_editor):
    ContentMessage = apps.get_model("triage", "ContentMessage")
    AnswerWord = apps.get_model("triage", "AnswerWord")
    Keyword = apps.get_model("triage", "Keyword")
    Rule = apps.get_model("triage", "Rule")

    for key, texts in defaults.MESSAGES.items():
        category = key.split(".", 1)[0]
        for language, text in texts.items():
            ContentMessage.objects.get_or_create(
                key=key, language=language, defaults={"text": text, "category": category}
            )
    for language, meanings in defaults.ANSWER_WORDS.items():
        for meaning, phrases in meanings.items():
            for phrase in phrases:
                AnswerWord.objects.get_or_create(
                    language=language, phrase=phrase, defaults={"meaning": meaning}
                )
    for action, phrases in defaults.KEYWORDS.items():
        for phrase in phrases:
            Keyword.objects.get_or_create(phrase=phrase, defaults={"action": action})
    for row in defaults.RULES:
        Rule.objects.get_or_create(
            rule_id=row["rule_id"],
            defaults={
                "tier": int(Tier[row["tier"]]),
                "question": row["question"],
                "trigger": row["trigger"],
                "source": row["source"],
            },
        )


class Migration(migrations.Migration):
    dependencies = [("triage", "0001_initial")]
    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
