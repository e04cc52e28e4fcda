"""The simulator: staff text the service as a phone number would, with the same engine and
content, and nothing ever leaves as an SMS.

Each staff member has one simulated person per country switch (US: 911 wording, UK: 999),
a `triage.Person` with simulated=True at an address no phone number can have
("sim:<user id>:us"). Texts go through `conversation_handle_inbound` exactly as the webhook's
do; replies are only shown. The dispatcher never claims a simulated person's check-ins
(reminders.dispatch); `simulator_fire_next_checkin` delivers them by hand after moving the
person's timeline back, so the engine counts the weeks since the outcome as if they had passed.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from clinic.models import Alert, SavedConversation
from reminders.dispatch import checkin_text
from reminders.models import Checkin
from triage.conversation import UK_REGIONS
from triage.models import Conversation, Message, Person
from triage.segments import SegmentInfo, segment_info
from triage.selectors import content_load
from triage.services import InboundResult, conversation_handle_inbound

COUNTRIES = {"US": "us", "GB": "gb"}  # the switch: country -> address suffix


class SimulatorError(Exception):
    """Something staff asked for that cannot be done (shown to them as is)."""


@dataclass(frozen=True)
class Bubble:
    """One message as the simulator shows it."""

    body: str
    mine: bool  # sent by the (simulated) person, shown on the right
    checkin_key: str  # a check-in the service sent, else ""
    segments: SegmentInfo | None  # for the service's texts: what each would cost
    new_episode: bool  # the first message of a conversation after an earlier one


def simulator_address(user_id: int, country: str) -> str:
    # "sim:" cannot parse as a phone number, and no Twilio From value starts with it.
    return f"sim:{user_id}:{COUNTRIES[country]}"


def simulator_person(*, user_id: int, country: str) -> Person:
    """The staff member's simulated person for that country, created on first use."""
    if country not in COUNTRIES:
        raise SimulatorError(f"Unknown country {country!r}: choose US or GB.")
    address = simulator_address(user_id, country)
    defaults = {"kind": Person.Kind.PHONE, "country": country, "simulated": True}
    try:
        with transaction.atomic():
            person, _ = Person.objects.get_or_create(address=address, defaults=defaults)
    except IntegrityError:  # the same user's other tab created it a moment ago
        person = Person.objects.get(address=address)
    if not person.simulated:  # never let the simulator drive a real person's conversation
        raise SimulatorError("That address belongs to a real person.")
    return person


def simulator_send(*, person: Person, text: str) -> InboundResult:
    """One text from the simulated person, handled as the webhook handles an SMS."""
    if not person.simulated:
        raise SimulatorError("Only simulated people can text from the simulator.")
    return conversation_handle_inbound(
        sid="SIM" + uuid.uuid4().hex, address=person.address, body=text
    )


def simulator_next_checkin(person: Person) -> Checkin | None:
    return (
        Checkin.objects.filter(person=person, status=Checkin.Status.PENDING)
        .order_by("due_at", "id")
        .first()
    )


def simulator_fire_next_checkin(*, person: Person) -> tuple[Checkin, dt.timedelta] | None:
    """Deliver the next pending check-in now, as the dispatcher would once it was due.

    The person's timeline moves back by the time still to wait (conversations' start and
    outcome, messages, check-ins), so the engine sees the weeks since the outcome as passed
    and the next text answers this check-in. Returns the check-in and how far the clock
    moved; None when nothing is pending.
    """
    if not person.simulated:
        raise SimulatorError("Only a simulated person's check-ins can be fired by hand.")
    with transaction.atomic():
        # The same lock an inbound text takes: a text and a fire never interleave.
        person = Person.objects.select_for_update().get(pk=person.pk)
        checkin = simulator_next_checkin(person)
        if checkin is None:
            return None
        now = timezone.now()
        shift = max(checkin.due_at - now, dt.timedelta(0))
        if shift:
            _timeline_shift(person, shift)
            checkin.refresh_from_db()
        body = checkin_text(person, checkin.message_key, content_load())
        message = Message.objects.create(
            person=person,
            conversation=checkin.conversation,
            direction=Message.Direction.OUTBOUND,
            address=person.address,
            body=body,
            status=Message.Status.SENT,  # no provider call: nothing leaves the building
        )
        checkin.status = Checkin.Status.SENT
        checkin.message = message
        checkin.sent_at = now
        checkin.attempts += 1
        checkin.claim_token = None
        checkin.save()
    return checkin, shift


def _timeline_shift(person: Person, shift: dt.timedelta) -> None:
    """Move the person's past back by `shift`, as if that much time had passed."""
    Conversation.objects.filter(person=person).update(
        started_at=F("started_at") - shift, outcome_at=F("outcome_at") - shift
    )
    Message.objects.filter(person=person).update(created_at=F("created_at") - shift)
    checkins = Checkin.objects.filter(person=person)
    checkins.update(
        due_at=F("due_at") - shift,
        sent_at=F("sent_at") - shift,
        replied_at=F("replied_at") - shift,
    )
    checkins.filter(status=Checkin.Status.PENDING).update(send_after=F("send_after") - shift)


def simulator_reset(*, person: Person) -> None:
    """Delete the simulated person's conversations, messages, check-ins and alerts; start over
    as a new number (no language, not opted out)."""
    if not person.simulated:
        raise SimulatorError("Only a simulated person can be reset.")
    with transaction.atomic():
        person = Person.objects.select_for_update().get(pk=person.pk)
        Alert.objects.filter(person=person).delete()
        Checkin.objects.filter(person=person).delete()
        Message.objects.filter(person=person).delete()
        Conversation.objects.filter(person=person).delete()
        person.language = ""
        person.opted_out_at = None
        person.number_invalid_at = None
        person.timezone = ""
        person.save()


def simulator_conversation(person: Person) -> Conversation | None:
    """The current episode: the active one, else the latest (e.g. after STOP)."""
    conversations = Conversation.objects.filter(person=person).order_by("-started_at", "-id")
    return conversations.filter(status=Conversation.Status.ACTIVE).first() or conversations.first()


def simulator_bubbles(person: Person) -> list[Bubble]:
    """Every message in and out, oldest first, as chat bubbles."""
    messages = (
        Message.objects.filter(person=person).select_related("checkin").order_by("created_at", "id")
    )
    bubbles: list[Bubble] = []
    seen_conversation = None
    for message in messages:
        mine = message.direction == Message.Direction.INBOUND
        checkin = getattr(message, "checkin", None)
        new_episode = (
            seen_conversation is not None
            and message.conversation_id is not None
            and message.conversation_id != seen_conversation
        )
        if message.conversation_id is not None:
            seen_conversation = message.conversation_id
        bubbles.append(
            Bubble(
                body=message.body,
                mine=mine,
                checkin_key=checkin.message_key if checkin else "",
                segments=None if mine else segment_info(message.body),
                new_episode=new_episode,
            )
        )
    return bubbles


def simulator_save_case(
    *, person: Person, name: str, created_by_id: int | None
) -> SavedConversation:
    """The current conversation's texts as a saved test case expecting its current tier."""
    name = name.strip()
    if not name:
        raise SimulatorError("Give the test case a name.")
    conv = simulator_conversation(person)
    if conv is None or conv.tier is None:
        raise SimulatorError("No outcome yet: text until the service gives one, then save.")
    texts = list(
        Message.objects.filter(conversation=conv, direction=Message.Direction.INBOUND).values_list(
            "body", flat=True
        )
    )
    # One message per line in a saved case: a text's own line breaks become spaces.
    lines = [" ".join(text.split()) for text in texts]
    lines = [line for line in lines if line]
    if not lines:
        raise SimulatorError("This conversation has no texts to save.")
    if SavedConversation.objects.filter(name=name).exists():
        raise SimulatorError(f"A saved test conversation is already called {name!r}.")
    try:
        with transaction.atomic():
            return SavedConversation.objects.create(
                name=name,
                texts="\n".join(lines),
                expected_tier=conv.tier,
                uk_number=person.country in UK_REGIONS,
                created_by_id=created_by_id,
            )
    except IntegrityError:  # saved under that name a moment ago
        raise SimulatorError(f"A saved test conversation is already called {name!r}.") from None
