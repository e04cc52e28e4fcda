"""Pre-publish checks: each fires on a bad edit a content editor could make, none fires on the
default content, and the box sits at the top of every content page."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from clinic.checks import ERROR, WARNING, Problem, content_problems
from clinic.roles import CONTENT_EDITOR
from reminders.models import CheckinStep
from tests.clinic.helpers import staff_client
from triage.models import AnswerWord, ContentMessage, Keyword, Rule

pytestmark = pytest.mark.django_db


def problems_about(where: str) -> list[Problem]:
    return [p for p in content_problems() if p.where == where]


def edit_message(key: str, language: str, text: str) -> ContentMessage:
    message, _ = ContentMessage.objects.update_or_create(
        key=key, language=language, defaults={"text": text}
    )
    return message


@pytest.fixture
def editor(client: Client) -> Client:
    return staff_client(CONTENT_EDITOR, client=client)


# ---------------------------------------------------------------- the default content


def test_it_finds_no_problem_in_the_default_content() -> None:
    assert content_problems() == []


def test_it_seeds_test_texts_for_every_emergency_rule_but_the_screen() -> None:
    seeded = {r.rule_id for r in Rule.objects.exclude(test_phrases="")}
    emergency = {r.rule_id for r in Rule.objects.filter(rule_id__startswith="E")}
    assert emergency - seeded == {"E00"}
    assert all(
        2 <= len(r.test_phrases.splitlines()) <= 4 for r in Rule.objects.filter(rule_id__in=seeded)
    )


# ---------------------------------------------------------------- messages


def test_it_flags_a_message_missing_in_spanish() -> None:
    edit_message("checkin.three_months", "en", "{service}: 3 months on. How is your back?")

    [problem] = problems_about("Message text checkin.three_months [es]")

    assert problem.severity == ERROR
    assert "No Spanish text" in problem.message
    assert problem.url == (
        reverse("admin:triage_contentmessage_add") + "?key=checkin.three_months&language=es"
    )


def test_it_warns_that_a_translation_is_out_of_date_when_only_the_english_was_edited() -> None:
    edit_message("outcome.soon", "en", "Please book a doctor's appointment in the next 2 weeks.")
    spanish = ContentMessage.objects.get(key="outcome.soon", language="es")

    [problem] = problems_about("Message text outcome.soon [es]")

    assert problem.severity == WARNING
    assert "translation is probably out of date" in problem.message
    assert problem.url == reverse("admin:triage_contentmessage_change", args=[spanish.pk])


def test_it_warns_that_the_uk_variant_still_has_the_old_wording() -> None:
    edit_message("outcome.emergency", "en", "This could be serious. Call 911 or go to the ER now.")

    [problem] = problems_about("Message text outcome.emergency_gb [en]")

    assert problem.severity == WARNING
    assert "UK variant" in problem.message


def test_it_is_quiet_once_both_languages_were_edited() -> None:
    edit_message("outcome.soon", "en", "Please book a doctor's appointment in the next 2 weeks.")
    edit_message("outcome.soon", "es", "Pida cita con su medico en las proximas 2 semanas.")

    assert content_problems() == []


def test_it_names_the_character_that_forces_ucs2() -> None:
    edit_message("outcome.soon", "es", "Pida cita en las próximas semanas. Escríbanos si empeora.")

    [problem] = [
        p for p in problems_about("Message text outcome.soon [es]") if "UCS-2" in p.message
    ]

    assert "'ó' 'í'" in problem.message
    assert "70 characters" in problem.message


def test_it_flags_a_message_longer_than_one_sms() -> None:
    edit_message("checkin.better", "en", "Glad it's easing. " * 10)

    [problem] = [
        p for p in problems_about("Message text checkin.better [en]") if "SMS" in p.message
    ]

    assert "2 × GSM-7 (180 chars)" in problem.message


# ---------------------------------------------------------------- emergency questions


def test_it_flags_an_emergency_question_whose_yes_no_longer_means_yes() -> None:
    word = AnswerWord.objects.get(language="es", phrase="si")
    word.meaning = "no"
    word.save()

    where = "Message text q.emergency_screen [es]"
    [problem] = problems_about(where)

    assert problem.severity == ERROR
    assert "Answering 'SI'" in problem.message
    assert "Message text q.emergency_screen [en]" not in [p.where for p in content_problems()]


def test_it_flags_an_emergency_answer_turned_into_a_keyword() -> None:
    Keyword.objects.create(phrase="yes", action="help")

    problems = problems_about("Message text q.emergency_more [en]")

    assert any("read as the keyword for help" in p.message for p in problems)


def test_it_flags_a_question_the_conversation_no_longer_reaches() -> None:
    # "NO" to the first question now asks for HELP: nobody gets to the second one.
    Keyword.objects.create(phrase="no", action="help")

    problems = problems_about("Message text q.emergency_more [en]")

    assert any(
        "never asked this emergency question: answering 'NO' to emergency_screen, it was read "
        "as the keyword for help" in p.message
        for p in problems
    )


def test_it_flags_a_question_text_that_no_longer_offers_yes_or_no() -> None:
    edit_message("q.cancer_band", "en", "Because you've had cancer: any new band-like pain?")

    problems = problems_about("Message text q.cancer_band [en]")

    assert any("no longer asks for YES or NO" in p.message for p in problems)


def test_it_flags_an_option_list_that_lost_its_letters() -> None:
    edit_message(
        "q.urgent_signs.more",
        "es",
        "peor al toser, duele al respirar hondo, tos con sangre, falta de aire, bulto",
    )

    problems = problems_about("Message text q.urgent_signs [es]")

    assert any("E), F), G), H), I)" in p.message for p in problems)


def test_it_follows_a_cancer_history_to_the_band_pain_question() -> None:
    # The only way to E10 from the option list is A (cancer) then YES to the band question.
    Keyword.objects.create(phrase="a", action="opt_out")

    problems = problems_about("Message text q.urgent_signs [en]")

    assert any("Answering 'A'" in p.message and "STOP" in p.message for p in problems)


# ---------------------------------------------------------------- rule test texts


def test_it_flags_a_test_text_a_keyword_turned_into_stop() -> None:
    Keyword.objects.create(phrase="coughing up loads of blood", action="opt_out")

    [problem] = problems_about("Rule E07")

    assert problem.severity == ERROR
    assert "'coughing up loads of blood' is now read as STOP" in problem.message
    assert problem.url == reverse("admin:triage_rule_change", args=["E07"])


def test_it_flags_a_test_text_that_relied_on_a_reworded_extra_phrase() -> None:
    rule = Rule.objects.get(rule_id="E02")
    rule.extra_phrases = "zappy thing"
    rule.test_phrases += "\nthe zappy thing is back"
    rule.save()
    assert problems_about("Rule E02") == []

    rule.extra_phrases = "zappy feeling"
    rule.save()

    [problem] = problems_about("Rule E02")
    assert "'the zappy thing is back' no longer triggers E02" in problem.message
    assert "needs an extra phrase" in problem.message


def test_it_warns_when_a_test_text_triggers_another_emergency_rule() -> None:
    rule = Rule.objects.get(rule_id="E02")
    rule.test_phrases += "\ncant breathe"
    rule.save()

    [problem] = problems_about("Rule E02")

    assert problem.severity == WARNING
    assert "EMERGENCY (E06)" in problem.message


def test_it_skips_the_test_texts_of_a_switched_off_urgent_rule() -> None:
    rule = Rule.objects.get(rule_id="U03")
    rule.test_phrases += "\nmy back hurts"
    rule.save()
    assert len(problems_about("Rule U03")) == 1

    rule.enabled = False
    rule.save()

    assert problems_about("Rule U03") == []


# ---------------------------------------------------------------- check-in plan


def test_it_flags_a_checkin_step_whose_message_does_not_exist() -> None:
    step = CheckinStep.objects.create(tier=0, offset_days=99, message_key="checkin.nowhere")

    [problem] = [p for p in content_problems() if p.where.startswith("Check-in plan step")]

    assert "checkin.nowhere" in problem.message
    assert problem.url == reverse("admin:reminders_checkinstep_change", args=[step.pk])


# ---------------------------------------------------------------- admin pages

CHANGELISTS = [
    "admin:triage_contentmessage_changelist",
    "admin:triage_rule_changelist",
    "admin:triage_keyword_changelist",
    "admin:triage_answerword_changelist",
    "admin:reminders_checkinstep_changelist",
]


@pytest.mark.parametrize("url_name", CHANGELISTS)
def test_it_shows_a_green_box_on_every_content_list(editor: Client, url_name: str) -> None:
    page = editor.get(reverse(url_name))

    assert page.status_code == 200
    assert "All pre-publish checks pass" in page.content.decode()


def test_it_shows_the_problems_with_a_link_to_what_to_fix(editor: Client) -> None:
    Keyword.objects.create(phrase="coughing up loads of blood", action="opt_out")

    page = editor.get(reverse("admin:triage_keyword_changelist")).content.decode()

    assert 'class="clinic-checks clinic-checks--fail"' in page
    assert "All pre-publish checks pass" not in page
    assert "is now read as STOP" in page
    assert f'href="{reverse("admin:triage_rule_change", args=["E07"])}"' in page


@pytest.mark.parametrize(
    "url",
    [
        lambda: reverse(
            "admin:triage_contentmessage_change",
            args=[ContentMessage.objects.get(key="q.emergency_screen", language="en").pk],
        ),
        lambda: reverse("admin:triage_rule_change", args=["E01"]),
        lambda: reverse("admin:triage_keyword_change", args=[Keyword.objects.first().pk]),
        lambda: reverse("admin:triage_answerword_change", args=[AnswerWord.objects.first().pk]),
        lambda: reverse(
            "admin:reminders_checkinstep_change", args=[CheckinStep.objects.first().pk]
        ),
    ],
    ids=["message", "rule", "keyword", "answer-word", "checkin-step"],
)
def test_it_shows_the_box_on_each_change_form(editor: Client, url) -> None:
    page = editor.get(url())

    assert page.status_code == 200
    assert "All pre-publish checks pass" in page.content.decode()


def test_it_marks_the_problem_about_the_page_being_edited(editor: Client) -> None:
    spanish = edit_message("outcome.soon", "es", "Pida cita con su médico próximamente.")

    page = editor.get(
        reverse("admin:triage_contentmessage_change", args=[spanish.pk])
    ).content.decode()

    assert 'class="clinic-checks clinic-checks--warn"' in page
    assert "(this page)" in page and "UCS-2" in page


def test_it_sees_an_edit_saved_in_admin_at_once(editor: Client) -> None:
    message = ContentMessage.objects.get(key="q.emergency_screen", language="en")
    url = reverse("admin:triage_contentmessage_change", args=[message.pk])
    assert "All pre-publish checks pass" in editor.get(url).content.decode()

    editor.post(
        url,
        {"key": message.key, "language": "en", "text": "Any leg weakness or chest pain?"},
    )

    page = editor.get(reverse("admin:triage_contentmessage_changelist")).content.decode()
    assert "no longer asks for YES or NO" in page
