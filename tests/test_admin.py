"""The admin staff work in: content with segment counts, protected rules, read-only people."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from triage.models import ContentMessage, Conversation, Person, Rule
from triage.services import conversation_handle_inbound

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client: Client) -> Client:
    user = get_user_model().objects.create_superuser("clinic", "clinic@example.org", "pw-12345")
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    "model",
    ["contentmessage", "answerword", "keyword", "rule", "person", "conversation", "message"],
)
def test_it_lists_every_kind_of_record(staff: Client, model: str) -> None:
    response = staff.get(reverse(f"admin:triage_{model}_changelist"))
    assert response.status_code == 200


def test_it_shows_the_segment_count_and_encoding_of_each_message(staff: Client) -> None:
    response = staff.get(reverse("admin:triage_contentmessage_changelist") + "?q=outcome.emergency")
    assert "1 × GSM-7" in response.content.decode()


def test_it_names_the_character_that_forces_ucs2(staff: Client) -> None:
    message = ContentMessage.objects.get(key="outcome.soon", language="es")
    message.text = "Pida cita con su médico en 1-2 semanas. Escríbanos si empeora."
    message.save()

    page = staff.get(
        reverse("admin:triage_contentmessage_change", args=[message.pk])
    ).content.decode()

    assert "UCS-2 because of" in page and "í" in page


def test_it_saves_an_edited_question_from_the_change_form(staff: Client) -> None:
    message = ContentMessage.objects.get(key="q.pain_now", language="en")
    url = reverse("admin:triage_contentmessage_change", args=[message.pk])

    response = staff.post(
        url,
        {
            "key": "q.pain_now",
            "language": "en",
            "text": "Pain 0-10, and better/same/worse?",
            "notes": "",
        },
    )

    assert response.status_code == 302
    message.refresh_from_db()
    assert message.text == "Pain 0-10, and better/same/worse?"


def test_it_offers_no_delete_and_no_switch_off_for_an_emergency_rule(staff: Client) -> None:
    page = staff.get(reverse("admin:triage_rule_change", args=["E02"])).content.decode()
    assert reverse("admin:triage_rule_delete", args=["E02"]) not in page
    assert 'name="enabled"' not in page  # shown read-only
    assert (
        staff.post(reverse("admin:triage_rule_delete", args=["E02"]), {"post": "yes"}).status_code
        == 403
    )
    assert Rule.objects.filter(rule_id="E02", enabled=True).exists()


def test_it_lets_staff_switch_off_a_non_emergency_rule(staff: Client) -> None:
    rule = Rule.objects.get(rule_id="S05")
    response = staff.post(
        reverse("admin:triage_rule_change", args=["S05"]),
        {
            "tier": rule.tier,
            "question": rule.question,
            "trigger": rule.trigger,
            "source": rule.source,
            "extra_phrases": "",
            "enabled": "",
        },
    )
    assert response.status_code == 302
    assert not Rule.objects.get(rule_id="S05").enabled


def test_it_refuses_to_lower_a_rule_below_its_clinical_tier(staff: Client) -> None:
    rule = Rule.objects.get(rule_id="U03")
    response = staff.post(
        reverse("admin:triage_rule_change", args=["U03"]),
        {
            "tier": 0,
            "question": rule.question,
            "trigger": rule.trigger,
            "source": rule.source,
            "extra_phrases": "",
            "enabled": "on",
        },
    )
    assert response.status_code == 200  # the form again, with the error
    assert "cannot be lower than URGENT" in response.content.decode()
    assert Rule.objects.get(rule_id="U03").tier == 2


def test_it_shows_a_transcript_and_outcome_reasons_read_only(staff: Client) -> None:
    for i, body in enumerate(["my upper back hurts", "yes"]):
        conversation_handle_inbound(sid=f"SM{i:032x}", address="+15551239876", body=body)
    conv = Conversation.objects.get(person__address="+15551239876")

    page = staff.get(reverse("admin:triage_conversation_change", args=[conv.pk])).content.decode()

    assert "my upper back hurts" in page and "Call 911" in page and "E00" in page
    assert 'name="tier"' not in page  # nothing editable
    person = Person.objects.get(address="+15551239876")
    listing = staff.get(reverse("admin:triage_person_changelist")).content.decode()
    assert "…9876" in listing and "+15551239876" not in listing  # numbers masked in lists
    assert staff.get(reverse("admin:triage_person_change", args=[person.pk])).status_code == 200
