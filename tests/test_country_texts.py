"""Each country's texts name only its own services: a US number hears of 911, 988 and urgent
care, a +44 number of 999, NHS 111, GP and Samaritans, never the other country's.

Also the data migration that brings stored texts up to date: it replaces a text only while it is
still the old default, so a clinic's own wording is never overwritten.
"""

from __future__ import annotations

import importlib
import itertools
import re

import pytest
from django.apps import apps
from django.test import Client

from tests.conftest import FAKE_AUTH_TOKEN
from tests.scripts import URGENT_FEVER_EN, text_signed
from triage import defaults
from triage.conversation import Content
from triage.models import ContentMessage, ContentVersion

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("signed_webhook")]

MIGRATION = importlib.import_module("triage.migrations.0009_country_only_texts")
_numbers = itertools.count(100)

UK_ONLY = re.compile(r"\b(999|NHS|111|GP|Samaritans|116 123|A&E|UK)\b|nhs\.uk")
US_ONLY = re.compile(r"\b(911|988|ER|US)\b|urgent care")
URGENT_FEVER_ES = ["me duele la espalda alta desde el viernes", "no", "no", "b"]


def text(client: Client, from_: str, body: str) -> list[str]:
    return text_signed(client, from_, body, token=FAKE_AUTH_TOKEN)


def chat(client: Client, from_: str, bodies: list[str]) -> list[str]:
    return [reply for body in bodies for reply in text(client, from_, body)]


@pytest.mark.parametrize("texts", [URGENT_FEVER_EN, URGENT_FEVER_ES], ids=["en", "es"])
def test_it_names_no_uk_service_to_a_us_number(client: Client, texts: list[str]) -> None:
    replies = chat(client, f"+1555456{next(_numbers):04d}", texts)

    assert any("911" in r for r in replies[-2:]), replies
    for reply in replies:
        assert not UK_ONLY.search(reply), reply


@pytest.mark.parametrize("texts", [URGENT_FEVER_EN, URGENT_FEVER_ES], ids=["en", "es"])
def test_it_names_no_us_service_to_a_uk_number(client: Client, texts: list[str]) -> None:
    replies = chat(client, f"+4474001{next(_numbers):05d}", texts)

    assert any("999" in r for r in replies[-2:]), replies
    assert "NHS 111" in replies[-2], replies[-2]
    for reply in replies:
        assert not US_ONLY.search(reply), reply


KEYS = sorted(k for k in defaults.MESSAGES if not k.endswith("_gb"))


@pytest.mark.parametrize("lang", ["en", "es"])
@pytest.mark.parametrize("key", KEYS)
def test_every_default_text_names_only_the_readers_country(key: str, lang: str) -> None:
    us, uk = Content(), Content(uk=True)

    assert not UK_ONLY.search(us.text(key, lang)), f"US {key} [{lang}]: {us.text(key, lang)}"
    assert not US_ONLY.search(uk.text(key, lang)), f"UK {key} [{lang}]: {uk.text(key, lang)}"


# ---------------------------------------------------------------- the data migration

OLD_URGENT = MIGRATION.CHANGED[("outcome.urgent", "en")][0]
OLD_DISCLAIMER = MIGRATION.CHANGED[("outcome.disclaimer", "en")][0]
CLINIC_WORDING = "Please call your GP surgery or our nurse line 0800 000 000 today."


def as_before_the_migration() -> None:
    """The database of a clinic that migrated before: old texts, no new UK variants."""
    ContentMessage.objects.filter(key="outcome.urgent", language="en").update(text=OLD_URGENT)
    ContentMessage.objects.filter(key="outcome.disclaimer", language="en").update(
        text=CLINIC_WORDING
    )
    ContentMessage.objects.filter(key__in=MIGRATION.ADDED).delete()


def stored(key: str, lang: str = "en") -> str:
    return ContentMessage.objects.get(key=key, language=lang).text


def test_it_updates_a_text_still_at_the_old_default() -> None:
    as_before_the_migration()

    MIGRATION.forwards(apps, None)

    assert stored("outcome.urgent") == defaults.MESSAGES["outcome.urgent"]["en"]
    row = ContentMessage.objects.get(key="outcome.urgent", language="en")
    latest = row.history.latest("history_date")
    assert latest.text == stored("outcome.urgent") and latest.history_type == "~"
    assert latest.history_change_reason == MIGRATION.REASON


def test_it_leaves_a_clinics_edited_text_alone() -> None:
    as_before_the_migration()

    MIGRATION.forwards(apps, None)

    assert stored("outcome.disclaimer") == CLINIC_WORDING


def test_it_adds_the_missing_uk_variants_with_a_history_record() -> None:
    as_before_the_migration()
    versions = ContentVersion.objects.count()

    MIGRATION.forwards(apps, None)

    for key, texts in MIGRATION.ADDED.items():
        for lang, body in texts.items():
            assert stored(key, lang) == body == defaults.MESSAGES[key][lang]
            row = ContentMessage.objects.get(key=key, language=lang)
            assert row.history.filter(history_type="+").exists()
            assert row.category == key.split(".")[0]
    assert ContentVersion.objects.count() > versions


def test_it_changes_nothing_on_a_database_already_up_to_date() -> None:
    before = dict(ContentMessage.objects.values_list("pk", "text"))
    versions = ContentVersion.objects.count()

    MIGRATION.forwards(apps, None)

    assert dict(ContentMessage.objects.values_list("pk", "text")) == before
    assert ContentVersion.objects.count() == versions


def test_it_matches_the_defaults_it_was_written_against() -> None:
    for (key, lang), (_, after) in MIGRATION.CHANGED.items():
        assert defaults.MESSAGES[key][lang] == after, key
