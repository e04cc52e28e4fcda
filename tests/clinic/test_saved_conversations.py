"""Saved test conversations: the runner, its admin (Run all / Run / run selected) and
`manage.py check_conversations`."""

from __future__ import annotations

import pytest
from django.core.management import execute_from_command_line
from django.db import connections
from django.test import Client
from django.urls import reverse

from clinic import testcases
from clinic.models import SavedConversation
from clinic.roles import CLINICIAN, CONTENT_EDITOR
from tests.clinic.helpers import staff_client
from triage.models import ContentMessage, Conversation, Keyword, Message, Person, TierChoices
from triage.sms import locmem

pytestmark = pytest.mark.django_db


def saved(name: str, texts: list[str], tier: int, **fields) -> SavedConversation:
    return SavedConversation.objects.create(
        name=name, texts="\n".join(texts), expected_tier=tier, **fields
    )


# ---------------------------------------------------------------- the runner


def test_it_passes_every_seeded_case_with_the_default_content() -> None:
    results = testcases.testcases_run()

    assert len(results) >= 12
    assert [r.case.name for r in results if not r.passed] == []
    assert {r.tier.name for r in results} == {"ROUTINE", "SOON", "URGENT", "EMERGENCY"}
    assert SavedConversation.objects.filter(last_passed=True).count() == len(results)


def test_it_records_the_transcript_of_a_run() -> None:
    case = saved("numb legs", ["hi my upper back hurts", "my legs are numb"], TierChoices.EMERGENCY)

    result = testcases.testcase_run(case)

    case.refresh_from_db()
    assert result.passed and case.last_passed is True and case.last_run_at is not None
    assert case.last_result.splitlines()[0] == "> hi my upper back hurts"
    assert "< This could be serious. Call 911 or go to the nearest ER now." in case.last_result
    assert "Final tier: EMERGENCY; expected EMERGENCY" in case.last_result
    assert "Rule ids: E02" in case.last_result


def test_it_fails_a_case_that_ends_at_another_tier() -> None:
    case = saved("should be routine", ["my legs are numb"], TierChoices.ROUTINE)

    result = testcases.testcase_run(case)

    case.refresh_from_db()
    assert not result.passed and case.last_passed is False
    assert result.summary == "expected ROUTINE, got EMERGENCY (E02)"
    assert case.last_result.splitlines()[-1].startswith("FAIL")


def test_it_fails_a_case_that_never_reaches_an_outcome() -> None:
    case = saved("stops halfway", ["my upper back hurts", "no"], TierChoices.ROUTINE)

    assert testcases.testcase_run(case).summary == "expected ROUTINE, got no outcome"


def test_it_runs_with_the_current_content() -> None:
    case = SavedConversation.objects.get(name="Emergencia: SI a la primera pregunta (ES)")
    assert testcases.testcase_run(case).passed

    Keyword.objects.create(phrase="si", action="opt_out")  # a bad edit: "si" now unsubscribes

    result = testcases.testcase_run(case)
    assert not result.passed
    assert "Se ha dado de baja" in case.last_result


def test_it_answers_a_uk_number_with_999() -> None:
    case = saved("uk", ["my legs keep giving way"], TierChoices.EMERGENCY, uk_number=True)

    testcases.testcase_run(case)

    assert "Call 999 or go to A&E now" in case.last_result


def test_it_answers_in_the_language_of_the_case() -> None:
    # Too few words to tell the language: the person's language (the case's) decides.
    case = saved("spanish", ["back pain", "yes"], TierChoices.EMERGENCY, language="es")

    testcases.testcase_run(case)

    assert "Llame al 911" in case.last_result


def test_it_counts_the_new_episode_after_restart() -> None:
    case = saved(
        "restart",
        ["my legs are numb", "RESTART", "my upper back hurts", "no"],
        TierChoices.EMERGENCY,
    )

    assert testcases.testcase_run(case).summary == "expected EMERGENCY, got no outcome"


def test_it_texts_nobody_and_writes_no_conversation() -> None:
    testcases.testcases_run()

    assert locmem.outbox == []
    assert (Person.objects.count(), Conversation.objects.count(), Message.objects.count()) == (
        0,
        0,
        0,
    )


# ---------------------------------------------------------------- admin


def test_it_lists_cases_with_pass_and_fail_badges(client: Client) -> None:
    editor = staff_client(CONTENT_EDITOR, client=client)
    testcases.testcases_run()
    saved("broken", ["my legs are numb"], TierChoices.ROUTINE)
    testcases.testcase_run(SavedConversation.objects.get(name="broken"))
    saved("new", ["hello"], TierChoices.ROUTINE)

    page = editor.get(reverse("admin:clinic_savedconversation_changelist")).content.decode()

    assert page.count('clinic-badge--pass">PASS') == SavedConversation.objects.count() - 2
    assert page.count('clinic-badge--fail">FAIL') == 1
    assert page.count('clinic-badge--none">not run') == 1
    assert "Run all" in page


def test_it_runs_all_from_the_changelist(client: Client) -> None:
    editor = staff_client(CONTENT_EDITOR, client=client)
    saved("broken", ["my legs are numb"], TierChoices.ROUTINE)
    total = SavedConversation.objects.count()

    response = editor.post(reverse("admin:clinic_savedconversation_run_all"), follow=True)

    page = response.content.decode()
    assert f"{total - 1} of {total} passed." in page
    assert "FAIL broken: expected ROUTINE, got EMERGENCY (E02)" in page
    assert not SavedConversation.objects.filter(last_run_at__isnull=True).exists()


def test_it_runs_the_selected_cases(client: Client) -> None:
    editor = staff_client(CONTENT_EDITOR, client=client)
    chosen = saved("chosen", ["my legs are numb"], TierChoices.EMERGENCY)

    response = editor.post(
        reverse("admin:clinic_savedconversation_changelist"),
        {"action": "run_selected", "_selected_action": [chosen.pk]},
        follow=True,
    )

    assert "1 of 1 passed." in response.content.decode()
    assert SavedConversation.objects.filter(last_run_at__isnull=False).get() == chosen


def test_it_runs_one_case_from_its_page_and_shows_the_transcript(client: Client) -> None:
    editor = staff_client(CONTENT_EDITOR, client=client)
    case = saved("one", ["my legs are numb"], TierChoices.EMERGENCY)
    url = reverse("admin:clinic_savedconversation_change", args=[case.pk])
    assert "Run</button>" in editor.get(url).content.decode()

    response = editor.post(reverse("admin:clinic_savedconversation_run", args=[case.pk]))

    assert response.status_code == 302 and response["Location"] == url
    page = editor.get(url).content.decode()
    assert "1 of 1 passed." in page
    assert "&gt; my legs are numb" in page and "Final tier: EMERGENCY" in page


def test_it_records_who_created_a_case(client: Client) -> None:
    editor = staff_client(CONTENT_EDITOR, username="author", client=client)

    editor.post(
        reverse("admin:clinic_savedconversation_add"),
        {"name": "added", "texts": "my legs are numb", "expected_tier": 3, "language": ""},
    )

    assert SavedConversation.objects.get(name="added").created_by.username == "author"


def test_it_lets_only_staff_who_may_change_cases_run_them(client: Client) -> None:
    staff_client(perms=("view_savedconversation",), client=client)

    page = client.get(reverse("admin:clinic_savedconversation_changelist")).content.decode()
    response = client.post(reverse("admin:clinic_savedconversation_run_all"))

    assert "Run all" not in page
    assert response.status_code == 403
    assert not SavedConversation.objects.filter(last_run_at__isnull=False).exists()


def test_it_keeps_clinicians_out_of_the_saved_cases(client: Client) -> None:
    clinician = staff_client(CLINICIAN, client=client)

    assert clinician.get(reverse("admin:clinic_savedconversation_changelist")).status_code == 403
    assert clinician.post(reverse("admin:clinic_savedconversation_run_all")).status_code == 403


def test_it_refuses_to_run_on_a_get(client: Client) -> None:
    editor = staff_client(CONTENT_EDITOR, client=client)

    assert editor.get(reverse("admin:clinic_savedconversation_run_all")).status_code == 405


# ---------------------------------------------------------------- manage.py check_conversations


@pytest.fixture
def command_line(monkeypatch) -> None:
    # A command run from the command line closes the database connections when it ends, which
    # would close this test's transaction too.
    monkeypatch.setattr(connections, "close_all", lambda: None)


def test_it_prints_a_pass_line_for_each_case_and_exits_0(capsys, command_line) -> None:
    execute_from_command_line(["manage.py", "check_conversations"])

    out = capsys.readouterr().out.splitlines()
    total = SavedConversation.objects.count()
    assert len([line for line in out if line.startswith("PASS  ")]) == total
    assert "PASS  Emergency: STOP and numb legs in one text: EMERGENCY (E02)" in out
    assert out[-1] == f"{total} of {total} saved test conversations pass."


def test_it_exits_1_and_names_the_failing_case(capsys, command_line) -> None:
    saved("broken", ["my legs are numb"], TierChoices.ROUTINE)

    with pytest.raises(SystemExit) as exit_:
        execute_from_command_line(["manage.py", "check_conversations"])

    captured = capsys.readouterr()
    assert exit_.value.code == 1
    assert "FAIL  broken: expected ROUTINE, got EMERGENCY (E02)" in captured.out
    assert "1 failed" in captured.err


def test_it_exits_0_when_no_case_is_saved(capsys, command_line) -> None:
    SavedConversation.objects.all().delete()

    execute_from_command_line(["manage.py", "check_conversations"])

    assert capsys.readouterr().out.strip() == "No saved test conversations."


def test_it_reads_the_content_as_edited(capsys, command_line) -> None:
    message = ContentMessage.objects.get(key="outcome.emergency", language="en")
    message.text = "Call 911 now."
    message.save()
    case = saved("edited", ["my legs are numb"], TierChoices.EMERGENCY)

    execute_from_command_line(["manage.py", "check_conversations"])

    case.refresh_from_db()
    assert "< Call 911 now." in case.last_result
