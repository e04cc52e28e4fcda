"""The simulator as staff use it: they text the service from /simulator/, see its replies as
chat bubbles with their cost, move the clock to the next check-in, reset, and save the
conversation as a test case. Nothing ever goes out as an SMS, and the dispatcher never texts a
simulated person.

Pages are fetched with the Django test client and read back as the bubbles staff see.
"""

from __future__ import annotations

import datetime as dt
import io
from html.parser import HTMLParser

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from clinic.models import Alert, SavedConversation
from clinic.roles import CLINICIAN, CONTENT_EDITOR, SUPPORT
from reminders.models import Checkin
from tests.clinic.helpers import staff_client
from tests.scripts import ROUTINE_EN
from triage.models import Conversation, Message, Person
from triage.rules import Tier
from triage.selectors import content_load
from triage.services import conversation_handle_inbound
from triage.sms.locmem import OutboundSms

pytestmark = pytest.mark.django_db

PAGE = "/simulator/"
ROUTINE = ["my upper back hurts after lifting boxes", *ROUTINE_EN[1:]]


# ---------------------------------------------------------------- helpers


class _Bubbles(HTMLParser):
    """(who, text, segment note, check-in label) for each chat bubble of the page."""

    def __init__(self) -> None:
        super().__init__()
        self.bubbles: list[dict[str, str]] = []
        self._field: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        classes = (a.get("class") or "").split()
        if "sim-bubble" in classes:
            self.bubbles.append({"from": a.get("data-from") or "", "body": "", "meta": ""})
            self.bubbles[-1]["label"] = ""
        elif self.bubbles and {"sim-body", "sim-meta", "sim-label"} & set(classes):
            self._field = {"sim-body": "body", "sim-meta": "meta", "sim-label": "label"}[
                next(c for c in classes if c in ("sim-body", "sim-meta", "sim-label"))
            ]
        elif tag == "br" and self._field == "body":
            self.bubbles[-1]["body"] += "\n"

    def handle_endtag(self, tag: str) -> None:
        if tag == "span":
            self._field = None

    def handle_data(self, data: str) -> None:
        if self._field:
            self.bubbles[-1][self._field] += data


def bubbles(page: str) -> list[dict[str, str]]:
    parser = _Bubbles()
    parser.feed(page)
    return parser.bubbles


def texts(page: str, who: str) -> list[str]:
    return [b["body"] for b in bubbles(page) if b["from"] == who]


def say(client: Client, text: str) -> str:
    """Type one text into the simulator; return the page it comes back to."""
    response = client.post(reverse("clinic:simulator_text"), {"text": text}, follow=True)
    assert response.status_code == 200
    return response.content.decode()


def content(key: str, *, uk: bool = False) -> str:
    from dataclasses import replace

    return replace(content_load(), uk=uk).text(key, "en")


@pytest.fixture
def staff(locmem_sms: list[OutboundSms]) -> Client:
    return staff_client(CONTENT_EDITOR, username="staffer")


def simulated_person() -> Person:
    return Person.objects.get(simulated=True)


# ---------------------------------------------------------------- chatting


def test_it_asks_the_questions_and_gives_the_self_care_outcome(
    staff: Client, locmem_sms: list[OutboundSms]
) -> None:
    for text in ROUTINE:
        page = say(staff, text)

    assert texts(page, "person") == ROUTINE
    service = texts(page, "service")
    assert service[:2] == [content("sys.welcome"), content("q.emergency_screen")]
    assert service[-2:] == [content("outcome.routine"), content("outcome.routine_watch")]
    assert "Routine (self-care)" in page
    assert "<code>R01</code>" in page
    assert "Next check-in: <code>checkin.routine_2w</code>, due in 14 days" in page
    assert locmem_sms == []  # shown on the page, never texted


def test_it_shows_each_replys_segment_count_and_encoding(staff: Client) -> None:
    page = say(staff, "my upper back hurts after lifting boxes")

    notes = [b["meta"] for b in bubbles(page) if b["from"] == "service"]
    welcome = content("sys.welcome")
    assert notes[0] == f"1 segment · GSM-7 · {len(welcome)} chars"
    assert all(note.startswith("1 segment · GSM-7") for note in notes)
    assert [b["meta"] for b in bubbles(page) if b["from"] == "person"] == [""]


def test_it_shows_the_911_text_alone_for_an_emergency(
    staff: Client, locmem_sms: list[OutboundSms]
) -> None:
    page = say(staff, "cant feel my legs")

    assert texts(page, "service") == [content("outcome.emergency")]
    assert "Call 911" in texts(page, "service")[0]
    assert "Emergency (911 now)" in page
    assert locmem_sms == []


def test_it_uses_the_999_wording_after_the_uk_switch(staff: Client) -> None:
    staff.post(reverse("clinic:simulator_country"), {"country": "GB"})

    page = say(staff, "cant feel my legs")

    assert texts(page, "service") == [content("outcome.emergency", uk=True)]
    assert "Call 999" in texts(page, "service")[0]
    person = simulated_person()
    assert (person.country, person.kind, person.simulated) == ("GB", Person.Kind.PHONE, True)


def test_it_texts_from_a_simulated_person_that_is_no_phone_number(staff: Client) -> None:
    say(staff, "hello")

    person = simulated_person()
    assert person.address.startswith("sim:") and person.address.endswith(":us")
    assert (person.kind, person.country, person.phone) == (Person.Kind.PHONE, "US", "")


def test_it_shows_what_staff_typed_escaped(staff: Client) -> None:
    page = say(staff, "<b>my back</b> & <script>alert(1)</script>")

    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert texts(page, "person") == ["<b>my back</b> & <script>alert(1)</script>"]


# ---------------------------------------------------------------- the fake clock


def test_it_fires_the_two_week_checkin_and_the_next_text_answers_it(
    staff: Client, locmem_sms: list[OutboundSms]
) -> None:
    for text in ROUTINE:
        say(staff, text)

    response = staff.post(reverse("clinic:simulator_fire"), follow=True)
    page = response.content.decode()

    checkin_bubble = bubbles(page)[-1]
    assert checkin_bubble["from"] == "service"
    assert checkin_bubble["body"] == content("checkin.routine_2w")
    assert checkin_bubble["label"] == "Check-in checkin.routine_2w"
    assert "Check-in checkin.routine_2w sent. The clock moved forward 14 days" in page
    assert "Next check-in: <code>checkin.six_weeks</code>, due in 28 days" in page
    conv = Conversation.objects.get(person=simulated_person())
    assert conv.outcome_at is not None
    assert (
        dt.timedelta(days=13, hours=23)
        < timezone.now() - conv.outcome_at
        < dt.timedelta(days=14, hours=1)
    )
    first = Checkin.objects.get(person=simulated_person(), message_key="checkin.routine_2w")
    assert first.status == Checkin.Status.SENT and first.message.status == Message.Status.SENT

    page = say(staff, "better")
    assert texts(page, "service")[-1] == content("checkin.signs")
    page = say(staff, "no")

    assert texts(page, "service")[-1] == content("checkin.better")
    first.refresh_from_db()
    assert first.replied_at is not None and first.trend == "better"
    assert locmem_sms == []


def test_it_says_no_checkin_is_pending_when_there_is_none(staff: Client) -> None:
    say(staff, "cant feel my legs")  # an emergency: no automatic check-ins

    page = staff.post(reverse("clinic:simulator_fire"), follow=True).content.decode()

    assert "No check-in pending." in page
    assert texts(page, "service") == [content("outcome.emergency")]


def test_it_resets_to_an_empty_conversation(staff: Client) -> None:
    for text in ROUTINE:
        say(staff, text)
    person = simulated_person()
    Alert.objects.create(person=person, kind=Alert.Kind.URGENT, tier=Tier.URGENT)
    say(staff, "spanish")

    page = staff.post(reverse("clinic:simulator_reset"), follow=True).content.decode()

    assert bubbles(page) == []
    assert "No messages yet" in page and "No outcome yet" in page
    assert not Conversation.objects.filter(person=person).exists()
    assert not Message.objects.filter(person=person).exists()
    assert not Checkin.objects.filter(person=person).exists()
    assert not Alert.objects.filter(person=person).exists()
    page = say(staff, "my upper back hurts")
    assert texts(page, "service")[0] == content("sys.welcome")


# ---------------------------------------------------------------- saving a test case


def test_it_saves_the_conversation_as_a_test_case(staff: Client) -> None:
    staff.post(reverse("clinic:simulator_country"), {"country": "GB"})
    for text in ROUTINE:
        say(staff, text)

    response = staff.post(
        reverse("clinic:simulator_save"), {"name": "Lifting strain, UK"}, follow=True
    )

    case = SavedConversation.objects.get(name="Lifting strain, UK")
    assert case.text_list == ROUTINE
    assert case.expected_tier == Tier.ROUTINE
    assert case.uk_number is True
    assert case.created_by is not None and case.created_by.username == "staffer"
    assert "Saved test conversation" in response.content.decode()


def test_it_refuses_to_save_before_an_outcome(staff: Client) -> None:
    say(staff, "my upper back hurts")
    before = SavedConversation.objects.count()

    page = staff.post(
        reverse("clinic:simulator_save"), {"name": "Too early"}, follow=True
    ).content.decode()

    assert "No outcome yet: text until the service gives one" in page
    assert SavedConversation.objects.count() == before
    assert not SavedConversation.objects.filter(name="Too early").exists()


# ---------------------------------------------------------------- who may use it


@pytest.mark.parametrize("role", [CONTENT_EDITOR, CLINICIAN])
def test_it_lets_content_editors_and_clinicians_in(role: str) -> None:
    client = staff_client(role)
    page = client.get(PAGE)
    assert page.status_code == 200
    assert "Fire next check-in" in page.content.decode()


def test_it_lets_superusers_in(client: Client) -> None:
    client.force_login(get_user_model().objects.create_superuser("root", "r@example.org", "pw"))
    assert client.get(PAGE).status_code == 200


@pytest.mark.parametrize("action", ["", "text/", "fire/", "reset/", "save/", "country/"])
def test_it_refuses_support_staff(action: str) -> None:
    client = staff_client(SUPPORT)
    response = (client.get if not action else client.post)(PAGE + action, {"text": "hello"})
    assert response.status_code == 403
    assert not Message.objects.exists()


def test_it_refuses_staff_without_a_role() -> None:
    assert staff_client(None).get(PAGE).status_code == 403


def test_it_sends_visitors_to_the_admin_login(client: Client) -> None:
    response = client.get(PAGE)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


# ---------------------------------------------------------------- never texted


def test_the_dispatcher_never_claims_a_simulated_persons_due_checkin(
    staff: Client, locmem_sms: list[OutboundSms]
) -> None:
    for text in ROUTINE:
        say(staff, text)
    real = "+12125550123"  # the same conversation from a real phone, for comparison
    for n, text in enumerate(ROUTINE):
        conversation_handle_inbound(sid=f"SMreal{n:026d}", address=real, body=text)

    # 15 days later, 15:00 UTC: inside New York's sending window for the real number.
    later = (timezone.now() + dt.timedelta(days=15)).replace(hour=15)
    with time_machine.travel(later, tick=False):
        out = io.StringIO()
        call_command("send_due_checkins", stdout=out)

    assert [sms.to for sms in locmem_sms] == [real]
    simulated = Checkin.objects.get(person=simulated_person(), message_key="checkin.routine_2w")
    assert simulated.status == Checkin.Status.PENDING and simulated.attempts == 0
    assert not Message.objects.filter(
        person=simulated_person(), direction=Message.Direction.OUTBOUND, checkin__isnull=False
    ).exists()
