"""The content staff edit in admin: what the data migration installs, that edits reach the next
text, that a later migrate never overwrites them, and the safety floor on emergency rules.

Texts go through `conversation_handle_inbound`, the service the webhook calls, so each test
checks what a patient would get back.
"""

from __future__ import annotations

import importlib
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings as django_settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, connections, transaction

from tests.scripts import ROUTINE_EN
from triage import defaults
from triage.models import AnswerWord, ContentMessage, Conversation, Keyword, Rule
from triage.rules import RULE_TIERS, Tier
from triage.selectors import VERSION_KEY, content_bump_version, content_load
from triage.services import conversation_handle_inbound

pytestmark = pytest.mark.django_db

RULE_IDS = (
    [f"E{n:02d}" for n in range(13)]
    + [f"U{n:02d}" for n in range(1, 13)]
    + [f"S{n:02d}" for n in range(1, 10)]
    + ["R01", "R02"]
)
postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL: SQLite locks the table a concurrent reader needs",
)


def numbers() -> Iterator[str]:
    n = 0
    while True:
        n += 1
        yield f"+1555123{n:04d}"


_phones = numbers()


def text(address: str, body: str) -> list[str]:
    return conversation_handle_inbound(
        sid="SM" + uuid.uuid4().hex, address=address, body=body
    ).replies


def chat(address: str, bodies: list[str]) -> list[list[str]]:
    return [text(address, body) for body in bodies]


def conversation(address: str) -> Conversation:
    return Conversation.objects.filter(person__address=address).latest("id")


def install_defaults() -> None:
    migration = importlib.import_module("triage.migrations.0002_default_content")
    migration.install(apps, None)


# ---------------------------------------------------------------- installed by migrate


def test_it_installs_every_message_in_english_and_spanish() -> None:
    installed = set(ContentMessage.objects.values_list("key", "language"))

    expected = {(key, lang) for key in defaults.MESSAGES for lang in ("en", "es")}
    assert expected <= installed
    for key, texts in defaults.MESSAGES.items():
        for lang, body in texts.items():
            assert ContentMessage.objects.get(key=key, language=lang).text == body


def test_it_files_messages_under_their_category() -> None:
    assert ContentMessage.objects.get(key="q.pain_now", language="en").category == "q"
    assert ContentMessage.objects.get(key="outcome.urgent", language="es").category == "outcome"
    assert ContentMessage.objects.get(key="sys.help", language="en").category == "sys"


def test_it_installs_the_whole_rule_table_with_sources() -> None:
    rules = {r.rule_id: r for r in Rule.objects.all()}

    assert sorted(rules) == sorted(RULE_IDS)
    for rule_id, rule in rules.items():
        assert rule.source.strip(), f"{rule_id} has no citation"
        assert rule.tier == RULE_TIERS[rule_id], rule_id
        assert rule.enabled, rule_id
        assert rule.extra_phrases == ""
    assert "NG234" in rules["E01"].source


def test_it_installs_answer_words_and_keywords() -> None:
    assert AnswerWord.objects.get(language="en", phrase="yes").meaning == "yes"
    assert AnswerWord.objects.get(language="es", phrase="no").meaning == "no"
    assert Keyword.objects.get(phrase="stop").action == "opt_out"
    assert Keyword.objects.get(phrase="ayuda").action == "help"
    expected_keywords = sum(len(v) for v in defaults.KEYWORDS.values())
    assert Keyword.objects.count() == expected_keywords


# ---------------------------------------------------------------- edits reach the next text


def _edit_welcome_then_text() -> None:
    first = text(next(_phones), "my upper back hurts")  # loads and caches the content
    assert first[0] == defaults.MESSAGES["sys.welcome"]["en"]

    welcome = ContentMessage.objects.get(key="sys.welcome", language="en")
    welcome.text = "Hi from the BackCheck team! Emergency: call 911. Reply STOP to end."
    welcome.save()

    second = text(next(_phones), "my upper back hurts")
    assert second[0] == "Hi from the BackCheck team! Emergency: call 911. Reply STOP to end."


def test_it_sends_an_edited_message_with_the_next_text() -> None:
    _edit_welcome_then_text()


def test_it_sends_an_edited_message_with_the_next_text_through_redis(redis_url: str) -> None:
    assert django_settings.CACHES["default"]["BACKEND"].endswith("RedisCache")
    import redis

    client = redis.Redis.from_url(redis_url)
    version_before = cache.get(VERSION_KEY)

    _edit_welcome_then_text()

    assert cache.get(VERSION_KEY) > version_before
    assert client.exists(cache.make_key(f"triage:content:{cache.get(VERSION_KEY)}"))


def test_an_edit_saved_by_another_process_reaches_the_next_text_within_a_second(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Another web worker saved the edit: its new version is in the shared cache, and this
    # process's own copy of the content was not cleared by it.
    from triage import selectors

    clock = [1000.0]
    monkeypatch.setattr(selectors, "monotonic", lambda: clock[0])
    text(next(_phones), "my upper back hurts")  # this process caches the content
    edited = "Hi, BackCheck here (edited elsewhere). Emergency: call 911. Reply STOP to end."
    ContentMessage.objects.filter(key="sys.welcome", language="en").update(text=edited)
    cache.incr(VERSION_KEY)  # what content_bump_version did in the other process

    clock[0] += selectors.RECHECK_SECONDS + 0.01

    assert text(next(_phones), "my upper back hurts")[0] == edited


def test_it_uses_an_edited_spanish_text_for_spanish_speakers() -> None:
    text(next(_phones), "me duele la espalda")
    msg = ContentMessage.objects.get(key="sys.welcome", language="es")
    msg.text = "Hola, somos BackCheck. Emergencia: 911."
    msg.save()

    replies = text(next(_phones), "me duele la espalda")

    assert replies[0] == "Hola, somos BackCheck. Emergencia: 911."


def test_it_falls_back_to_the_default_when_an_emergency_text_is_deleted() -> None:
    ContentMessage.objects.filter(key="outcome.emergency").delete()

    replies = text(next(_phones), "cant feel my legs")

    assert replies == [defaults.MESSAGES["outcome.emergency"]["en"]]


def test_it_fills_in_the_service_name_and_contact_from_settings(settings: Any) -> None:
    settings.SUPPORT_CONTACT = "0800 123 456"
    content_bump_version()

    replies = text(next(_phones), "HELP")

    assert "0800 123 456" in replies[0]
    assert "{contact}" not in replies[0] and "{service}" not in replies[0]


@postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_it_never_caches_content_from_before_an_edit_was_committed() -> None:
    content_load()
    new_text = "Edited: call 911 now. Do not drive yourself."

    def concurrent_request() -> None:
        try:
            content_load()
        finally:
            connections.close_all()

    with transaction.atomic():  # as the admin's change view does
        msg = ContentMessage.objects.get(key="outcome.emergency", language="en")
        msg.text = new_text
        msg.save()
        reader = threading.Thread(target=concurrent_request)
        reader.start()
        reader.join(timeout=30)

    assert content_load().text("outcome.emergency", "en") == new_text


# ---------------------------------------------------------------- migrate never overwrites


def test_it_keeps_edits_when_the_data_migration_runs_again() -> None:
    welcome = ContentMessage.objects.get(key="sys.welcome", language="en")
    welcome.text = "Edited welcome. Emergency: call 911."
    welcome.save()
    rule = Rule.objects.get(rule_id="U03")
    rule.source = "Local protocol 7.2"
    rule.extra_phrases = "burning up"
    rule.tier = Tier.EMERGENCY
    rule.save()
    Keyword.objects.filter(phrase="info").delete()
    counts = (ContentMessage.objects.count(), Rule.objects.count(), AnswerWord.objects.count())

    install_defaults()

    assert ContentMessage.objects.get(key="sys.welcome", language="en").text == (
        "Edited welcome. Emergency: call 911."
    )
    rule.refresh_from_db()
    assert (rule.source, rule.extra_phrases, rule.tier) == ("Local protocol 7.2", "burning up", 3)
    assert counts == (
        ContentMessage.objects.count(),
        Rule.objects.count(),
        AnswerWord.objects.count(),
    )
    assert Keyword.objects.filter(phrase="info").exists(), "a deleted default comes back"
    assert text(next(_phones), "hello")[0] == "Edited welcome. Emergency: call 911."


def test_it_installs_nothing_twice() -> None:
    before = ContentMessage.objects.count(), Rule.objects.count(), Keyword.objects.count()

    install_defaults()
    install_defaults()

    assert (ContentMessage.objects.count(), Rule.objects.count(), Keyword.objects.count()) == before


# ---------------------------------------------------------------- the emergency safety floor


def test_it_refuses_to_disable_an_emergency_rule() -> None:
    rule = Rule.objects.get(rule_id="E01")
    rule.enabled = False

    with pytest.raises(ValidationError):
        rule.save()
    with pytest.raises(ValidationError):
        rule.full_clean()
    assert Rule.objects.get(rule_id="E01").enabled


@pytest.mark.parametrize("rule_ids", [["E01"], ["E00", "E12"], RULE_IDS[:13]])
def test_it_refuses_a_bulk_update_that_disables_an_emergency_rule(rule_ids: list[str]) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Rule.objects.filter(rule_id__in=rule_ids).update(enabled=False)

    assert Rule.objects.filter(enabled=False).count() == 0


def test_it_refuses_to_delete_an_emergency_rule() -> None:
    rule = Rule.objects.get(rule_id="E01")

    with pytest.raises(ValidationError), transaction.atomic():
        rule.delete()
    with pytest.raises(ValidationError), transaction.atomic():
        Rule.objects.filter(rule_id="E01").delete()
    with pytest.raises(ValidationError), transaction.atomic():
        Rule.objects.filter(rule_id__in=["U03", "E05"]).delete()

    assert Rule.objects.filter(rule_id__in=["E01", "E05", "U03"]).count() == 3


def test_it_still_sends_an_emergency_to_911_after_an_attempt_to_delete_its_rule() -> None:
    with pytest.raises(ValidationError), transaction.atomic():
        Rule.objects.filter(rule_id="E02").delete()

    replies = text(next(_phones), "cant feel my legs")

    assert "911" in replies[0]


@pytest.mark.parametrize(
    "rule_id,lower",
    [("E01", Tier.URGENT), ("E12", Tier.ROUTINE), ("U03", Tier.SOON), ("S03", Tier.ROUTINE)],
)
def test_it_refuses_to_lower_a_rule_below_its_tier(rule_id: str, lower: Tier) -> None:
    rule = Rule.objects.get(rule_id=rule_id)
    rule.tier = lower

    with pytest.raises(ValidationError):
        rule.save()
    assert Rule.objects.get(rule_id=rule_id).tier == RULE_TIERS[rule_id]


def test_it_can_delete_a_non_emergency_rule() -> None:
    Rule.objects.get(rule_id="S05").delete()

    assert not Rule.objects.filter(rule_id="S05").exists()


# ---------------------------------------------------------------- switching rules


def test_it_stops_firing_a_disabled_urgent_rule() -> None:
    fever = ["my upper back hurts after lifting a box", "no", "no", "B"]
    before = chat(next(_phones), fever)  # also warms the content cache
    assert "doctor or nurse today" in before[-1][0]

    rule = Rule.objects.get(rule_id="U03")
    rule.enabled = False
    rule.save()
    patient = next(_phones)
    turns = chat(patient, fever + ["3 better", "3 days, lifting, 30", "none"])

    assert "How bad is the pain" in turns[3][0], "fever alone no longer ends the check"
    assert not any("doctor or nurse today" in r for turn in turns for r in turn)
    assert "Sounds like a strain" in turns[-1][0]
    conv = conversation(patient)
    assert conv.tier == 0
    assert "U03" not in conv.reasons


def test_it_fires_a_rule_again_once_it_is_re_enabled() -> None:
    rule = Rule.objects.get(rule_id="U03")
    rule.enabled = False
    rule.save()
    text(next(_phones), "hi")
    rule.enabled = True
    rule.save()
    patient = next(_phones)

    turns = chat(patient, ["my upper back hurts after lifting a box", "no", "no", "B"])

    assert "doctor or nurse today" in turns[-1][0]
    assert conversation(patient).reasons == ["U03"]


def test_it_gives_a_raised_rule_its_new_tier() -> None:
    rule = Rule.objects.get(rule_id="S03")
    rule.tier = Tier.URGENT
    rule.save()
    patient = next(_phones)

    turns = chat(patient, ROUTINE_EN[:-1] + ["A"])  # A) a cough for weeks

    assert "doctor or nurse today" in turns[-1][0]
    conv = conversation(patient)
    assert conv.tier == 2
    assert "S03" in conv.reasons


# ---------------------------------------------------------------- extra phrases

# rule id, a phrase the built-in vocabulary does not know, what the reply must contain. Made-up
# slang on purpose: real idioms ("my face went wonky") join the built-in vocabulary.
EXTRA_PHRASES = [
    ("E01", "my pins have gone to mush", "911"),
    ("E02", "my legs feel like ive got socks of sand", "911"),
    ("E03", "my plumbing has given up the ghost", "911"),
    ("E04", "my face has gone all skew whiff", "911"),
    ("E05", "a rhino is parked on my ribs", "911"),
    ("E06", "i am sucking air through a straw", "911"),
    ("E07", "hacking up a cupful of claret", "911"),
    ("E08", "my back went ping like a whip", "911"),
    ("E09", "a digger tipped me into the ditch", "911"),
    ("E11", "i am roasting and talking to the wallpaper", "911"),
    ("E12", "i wish it would all stop for good", "988"),
]


@pytest.mark.parametrize(
    "rule_id,phrase,number",
    [pytest.param(*row, id=row[0]) for row in EXTRA_PHRASES],
)
def test_it_sends_a_phrase_added_to_an_emergency_rule_to_emergency_care(
    rule_id: str, phrase: str, number: str
) -> None:
    unaided = text(next(_phones), phrase)
    assert len(unaided) == 2, "the built-in vocabulary already knows this phrase"
    assert Conversation.objects.latest("id").tier is None

    rule = Rule.objects.get(rule_id=rule_id)
    rule.extra_phrases = "something else entirely\n" + phrase.upper() + "\n"
    rule.save()
    patient = next(_phones)
    replies = text(patient, phrase)

    assert len(replies) == 1
    assert number in replies[0]
    conv = conversation(patient)
    assert conv.tier == 3
    assert rule_id in conv.reasons


def test_it_reads_an_extra_phrase_in_a_longer_text() -> None:
    rule = Rule.objects.get(rule_id="E04")
    rule.extra_phrases = "face went wonky"
    rule.save()

    replies = text(next(_phones), "since this morning my face went wonky and my back aches")

    assert "911" in replies[0]


@pytest.mark.parametrize(
    "rule_id,phrase",
    [
        ("U03", "i feel like a furnace"),
        pytest.param(
            "U05",
            "it gnaws at me in the wee hours",
        ),
        pytest.param(
            "U06",
            "sneezing makes it scream",
        ),
    ],
)
def test_it_counts_a_phrase_added_to_an_urgent_rule(rule_id: str, phrase: str) -> None:
    rule = Rule.objects.get(rule_id=rule_id)
    rule.extra_phrases = phrase
    rule.save()
    patient = next(_phones)

    turns = chat(patient, [f"my upper back hurts and {phrase}", "no", "no", "none"])

    assert "doctor or nurse today" in turns[-1][0]
    conv = conversation(patient)
    assert conv.tier == 2
    assert rule_id in conv.reasons
