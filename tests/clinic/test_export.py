"""CSV exports from the Conversation list: exactly what a clinician's spreadsheet gets, for the
selection or the filtered list, and nobody else gets one."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.http import StreamingHttpResponse
from django.test import Client
from django.urls import reverse

from clinic.roles import CLINICIAN, CONTENT_EDITOR, SUPPORT
from tests.clinic.helpers import staff_client
from triage.models import Conversation, Message, Person, TierChoices

pytestmark = pytest.mark.django_db

OUTCOMES = reverse("admin:triage_conversation_export_outcomes")
TRANSCRIPTS = reverse("admin:triage_conversation_export_transcripts")
CHANGELIST = reverse("admin:triage_conversation_changelist")
UTC = dt.UTC


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2025, 3, day, hour, minute, tzinfo=UTC)


def conversation(person: Person, started: dt.datetime, **fields: Any) -> Conversation:
    conv = Conversation.objects.create(person=person, status="closed", **fields)
    Conversation.objects.filter(pk=conv.pk).update(started_at=started)
    return conv


def message(conv: Conversation, when: dt.datetime, direction: str, body: str, status: str, **kw):
    m = Message.objects.create(
        person=conv.person,
        conversation=conv,
        direction=direction,
        address=conv.person.address,
        body=body,
        status=status,
        **kw,
    )
    Message.objects.filter(pk=m.pk).update(created_at=when)
    return m


@pytest.fixture
def data() -> dict[str, Conversation]:
    """Two outcomes on 3 and 4 March, one triage without an outcome, one simulator session."""
    us = Person.objects.create(
        address="+15551230001", phone="+15551230001", country="US", language="en"
    )
    uk = Person.objects.create(
        address="+447400123456", phone="+447400123456", country="GB", language="es"
    )
    sim = Person.objects.create(address="sim:7", kind="other", simulated=True)
    routine = conversation(
        us,
        at(3, 9),
        tier=TierChoices.ROUTINE,
        reasons=["R01"],
        texts_to_outcome=7,
        content_version=3,
        language="en",
        outcome_at=at(3, 9, 5),
    )
    message(routine, at(3, 9, 0), "in", "my back hurts", "received")
    message(routine, at(3, 9, 1), "out", 'Is it "sharp", or dull?', "replied")
    message(routine, at(3, 9, 2), "in", "=HYPERLINK(1)", "received")
    message(routine, at(3, 9, 3), "out", "Check-in", "undelivered", error_code=30006)
    emergency = conversation(
        uk,
        at(4, 22, 30),
        tier=TierChoices.EMERGENCY,
        reasons=["E02", "U01"],
        texts_to_outcome=2,
        content_version=4,
        language="es",
        outcome_at=at(4, 22, 31),
    )
    message(emergency, at(4, 22, 30), "in", "no siento las piernas", "received")
    unfinished = conversation(us, at(4, 10), language="en")
    message(unfinished, at(4, 10), "in", "hello", "received")
    simulated = conversation(
        sim, at(3, 12), tier=TierChoices.URGENT, reasons=["U03"], outcome_at=at(3, 12, 1)
    )
    message(simulated, at(3, 12), "in", "simulated text", "received")
    return {"routine": routine, "emergency": emergency, "unfinished": unfinished}


def rows(response) -> list[list[str]]:
    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv"
    assert response["Content-Disposition"].startswith('attachment; filename="backcheck-')
    raw = b"".join(response.streaming_content).decode("utf-8")
    assert raw.startswith("\ufeff"), "Excel needs the byte-order mark to read UTF-8"
    return list(csv.reader(io.StringIO(raw[1:])))


OUTCOME_HEADER = [
    "conversation_id",
    "started_at",
    "outcome_at",
    "tier",
    "rule_ids",
    "texts_to_outcome",
    "content_version",
    "language",
    "country",
    "number",
]
TRANSCRIPT_HEADER = [
    "conversation_id",
    "time",
    "direction",
    "number",
    "body",
    "status",
    "error_code",
]


def test_it_exports_one_row_per_outcome(data: dict[str, Conversation]) -> None:
    routine, emergency = data["routine"].pk, data["emergency"].pk

    got = rows(staff_client(CLINICIAN).get(OUTCOMES))

    assert got == [
        OUTCOME_HEADER,
        [
            str(routine),
            "2025-03-03T09:00:00Z",
            "2025-03-03T09:05:00Z",
            "routine",
            "R01",
            "7",
            "3",
            "en",
            "US",
            "…0001",
        ],
        [
            str(emergency),
            "2025-03-04T22:30:00Z",
            "2025-03-04T22:31:00Z",
            "emergency",
            "E02 U01",
            "2",
            "4",
            "es",
            "GB",
            "…3456",
        ],
    ]


def test_it_exports_one_row_per_message(data: dict[str, Conversation]) -> None:
    routine, emergency = data["routine"].pk, data["emergency"].pk
    unfinished = data["unfinished"].pk

    got = rows(staff_client(CLINICIAN).get(TRANSCRIPTS))

    assert got == [
        TRANSCRIPT_HEADER,
        [str(routine), "2025-03-03T09:00:00Z", "in", "…0001", "my back hurts", "received", ""],
        [
            str(routine),
            "2025-03-03T09:01:00Z",
            "out",
            "…0001",
            'Is it "sharp", or dull?',
            "replied",
            "",
        ],
        # A text that a spreadsheet would run as a formula is quoted.
        [str(routine), "2025-03-03T09:02:00Z", "in", "…0001", "'=HYPERLINK(1)", "received", ""],
        [str(routine), "2025-03-03T09:03:00Z", "out", "…0001", "Check-in", "undelivered", "30006"],
        [
            str(emergency),
            "2025-03-04T22:30:00Z",
            "in",
            "…3456",
            "no siento las piernas",
            "received",
            "",
        ],
        [str(unfinished), "2025-03-04T10:00:00Z", "in", "…0001", "hello", "received", ""],
    ]


def test_it_exports_what_the_date_filter_shows(data: dict[str, Conversation]) -> None:
    client = staff_client(CLINICIAN)
    query = "started_at__day=4&started_at__month=3&started_at__year=2025"

    changelist = client.get(f"{CHANGELIST}?{query}").content.decode()
    outcomes = rows(client.get(f"{OUTCOMES}?{query}"))
    transcripts = rows(client.get(f"{TRANSCRIPTS}?{query}"))

    assert f'href="{OUTCOMES}?{query.replace("&", "&amp;")}"' in changelist
    assert [row[0] for row in outcomes[1:]] == [str(data["emergency"].pk)]
    assert {row[0] for row in transcripts[1:]} == {
        str(data["emergency"].pk),
        str(data["unfinished"].pk),
    }


def test_it_exports_the_selected_conversations(data: dict[str, Conversation]) -> None:
    selected = [data["routine"].pk, data["unfinished"].pk]

    response = staff_client(CLINICIAN).post(
        CHANGELIST, {"action": "export_transcripts", "_selected_action": selected}
    )
    outcomes = staff_client(CLINICIAN).post(
        CHANGELIST, {"action": "export_outcomes", "_selected_action": selected}
    )

    assert [row[4] for row in rows(response)[1:]] == [
        "my back hurts",
        'Is it "sharp", or dull?',
        "'=HYPERLINK(1)",
        "Check-in",
        "hello",
    ]
    assert [row[0] for row in rows(outcomes)[1:]] == [str(data["routine"].pk)]


def test_it_leaves_simulator_sessions_out_even_when_selected(data: dict[str, Conversation]) -> None:
    simulated = Conversation.objects.get(person__simulated=True)

    response = staff_client(CLINICIAN).post(
        CHANGELIST, {"action": "export_outcomes", "_selected_action": [simulated.pk]}
    )

    assert rows(response) == [OUTCOME_HEADER]


def test_it_lets_a_superuser_export(data: dict[str, Conversation]) -> None:
    client = Client()
    client.force_login(User.objects.create_superuser("root", "root@example.org", "pw-12345"))
    assert len(rows(client.get(OUTCOMES))) == 3


@pytest.mark.parametrize("group", [SUPPORT, CONTENT_EDITOR, None])
def test_it_refuses_an_export_to_other_staff(data: dict[str, Conversation], group) -> None:
    client = staff_client(group)
    assert client.get(OUTCOMES).status_code == 403
    assert client.get(TRANSCRIPTS).status_code == 403


def test_it_offers_no_export_to_staff_who_may_only_read_conversations(
    data: dict[str, Conversation],
) -> None:
    client = staff_client(perms=("view_conversation", "view_message"))

    changelist = client.get(CHANGELIST).content.decode()
    action = client.post(
        CHANGELIST, {"action": "export_transcripts", "_selected_action": [data["routine"].pk]}
    )

    assert "Export outcomes" not in changelist and "export_transcripts" not in changelist
    assert client.get(OUTCOMES).status_code == 403
    assert client.get(TRANSCRIPTS).status_code == 403
    assert not isinstance(action, StreamingHttpResponse)
    assert "my back hurts" not in action.content.decode()
