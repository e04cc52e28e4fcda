"""Handling an inbound text: the one place that reads and writes the database for a conversation.

`conversation_handle_inbound` is called by the Twilio webhook (and by `manage.py chat`). It
locks the person's row so their texts are handled one at a time, in arrival order; refuses a
MessageSid it has already seen (Twilio may deliver twice) without advancing anything; logs every
message in and out; holds, unapplied, texts over the sender's limits or in a loop (but never an
emergency: triage/inbound_limits.py); and returns the replies for the caller to send (as TwiML,
in the webhook).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass, field
from functools import partial

import phonenumbers
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.utils import timezone

from reminders.services import (
    checkin_delivery_failed,
    checkin_latest_sent,
    checkin_record_answer,
    checkins_cancel,
    checkins_schedule,
    person_refused,
)
from triage import conversation as engine
from triage import inbound_limits, inbound_sql, privacy, signals
from triage.models import Conversation, Message, Person, mask, redact
from triage.selectors import content_load
from triage.sms import SmsError, send_sms
from triage.sms.base import INVALID_NUMBER_CODES, TWILIO_UNSUBSCRIBED
from triage.understanding import describe

log = logging.getLogger(__name__)

SHORT_CODE_RE = re.compile(r"^\d{3,8}$")
# What a text may change on the person: their language, STOP and START.
PERSON_FIELDS = ("language", "opted_out_at", "updated_at")
WEEK_SECONDS = 7 * 24 * 3600


@dataclass
class InboundResult:
    replies: list[str] = field(default_factory=list)
    duplicate: bool = False
    ignored: bool = False
    emergency: bool = False
    conversation_id: int | None = None


def person_classify(address: str) -> dict[str, str]:
    """Channel, kind, E.164 and region of a Twilio `From` value."""
    channel = Person.Channel.SMS
    raw = address.strip()
    if raw.lower().startswith("whatsapp:"):
        channel, raw = Person.Channel.WHATSAPP, raw.split(":", 1)[1]
    if SHORT_CODE_RE.match(raw):
        return {"channel": channel, "kind": Person.Kind.SHORT_CODE, "phone": "", "country": ""}
    try:
        number = phonenumbers.parse(raw, None)
    except phonenumbers.NumberParseException:
        return {"channel": channel, "kind": Person.Kind.OTHER, "phone": "", "country": ""}
    if not phonenumbers.is_possible_number(number):
        return {"channel": channel, "kind": Person.Kind.OTHER, "phone": "", "country": ""}
    return {
        "channel": channel,
        "kind": Person.Kind.PHONE,
        "phone": phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
        # +44 numbers the library files under GG/JE/IM, or under no region, are UK too.
        "country": phonenumbers.region_code_for_number(number)
        or ("GB" if number.country_code == 44 else ""),
    }


def conversation_handle_inbound(
    *,
    sid: str,
    address: str,
    body: str,
    num_media: int = 0,
    media_urls: list[str] | None = None,
) -> InboundResult:
    handle = partial(
        _handle_inbound,
        sid=sid,
        address=address,
        body=body,
        num_media=num_media,
        media_urls=media_urls,
    )
    try:
        try:
            return handle()
        except _OverLimit:
            # Rolled back: handled again, counting the sender's texts before anything else.
            return handle(count_first=True)
    except IntegrityError:
        # The one conflict a text can meet is its MessageSid, already stored (a repeated
        # delivery; the person's lock serialises everything else). Anything else is a bug and
        # is raised: a text is never dropped as a "duplicate" it is not.
        if Message.objects.filter(provider_sid=sid).exists():
            return InboundResult(duplicate=True)
        raise


class _OverLimit(Exception):
    """The write found the sender over their limit, which the text was handled as under."""


def _handle_inbound(
    *,
    sid: str,
    address: str,
    body: str,
    num_media: int,
    media_urls: list[str] | None,
    count_first: bool = False,
) -> InboundResult:
    # On PostgreSQL the sender's recent texts are counted by the write statement, after the
    # lock like a query of their own but without its round trip: the text is handled as under
    # the limit, and in the rare case the count says otherwise, all is rolled back and the text
    # handled again, counting first (_OverLimit). `deferred` holds the window the limit needs.
    deferred: list[dt.datetime] = []

    def count_in_write(person: Person, since: dt.datetime) -> int:
        deferred.append(since)
        return 0

    with transaction.atomic():
        # A text Twilio delivers twice is refused by the MessageSid's unique constraint when it
        # is stored, at the end: everything done for it meanwhile rolls back with it.
        person, conv, created = _person_locked(address)
        inbound = Message(
            person=person,
            direction=Message.Direction.INBOUND,
            address=address,
            body=body,
            provider_sid=sid,
            num_media=num_media,
            media_urls=media_urls or [],
            status=Message.Status.RECEIVED,
        )
        if person.kind != Person.Kind.PHONE:
            # Short codes and non-numbers are automated senders: answering risks a loop.
            inbound.status = Message.Status.IGNORED
            inbound.save()
            log.info("inbound from %s (%s) logged, not answered", mask(address), person.kind)
            return InboundResult(ignored=True)
        if conv is None:
            conv = _new_conversation(person) if created else _active_conversation(person)
        inbound.conversation = conv

        content = content_load()
        t = engine.advance(
            conv.state,
            body,
            person=engine.Person(
                opted_out=person.opted_out, language=person.language or None, country=person.country
            ),
            content=content,
            **_followup_context(conv),
        )
        inbound.analysis = describe(t.analysis) | {"flags": t.flags}
        # Read (and screened for emergencies) above; over a limit or in a loop, held unapplied.
        # The text is stored either way, in this transaction (one INSERT, once all is known).
        held = inbound_limits.inbound_hold(
            person=person,
            inbound=inbound,
            transition=t,
            state_before=conv.state,
            content=content,
            recent_count=count_in_write if inbound_sql.enabled() and not count_first else None,
        )
        if held is not None:
            return InboundResult(replies=held, ignored=True, conversation_id=conv.pk)
        if person.opted_out and not t.replies:
            inbound.status = Message.Status.IGNORED
        conv, news, person_changed = _apply(person, conv, t, content.version)
        inbound.conversation = conv  # RESTART files its text under the new episode
        # The text and its replies in one INSERT, the text first (ids and times keep their order).
        reply = {
            "person": person,
            "conversation": conv,
            "direction": Message.Direction.OUTBOUND,
            "address": address,
            "status": Message.Status.REPLIED,
            "analysis": inbound_limits.reply_analysis(t),
        }
        if inbound_sql.enabled():
            # On PostgreSQL the person's and the conversation's UPDATEs ride in the same
            # statement.
            recent = inbound_sql.text_store(
                inbound,
                t.replies,
                reply=Message(**reply),
                conversation=conv,
                person=person,
                person_fields=PERSON_FIELDS if person_changed else (),
                recent_since=deferred[0] if deferred else None,
            )
            if recent is not None and recent >= settings.INBOUND_MAX_TEXTS:
                raise _OverLimit
        else:
            conv.save()
            Message.objects.bulk_create([inbound, *(Message(**reply, body=b) for b in t.replies)])
        if news:
            signals.outcome_recorded.send(
                sender=Conversation,
                conversation=conv,
                tier=conv.tier,
                reasons=list(conv.reasons),
                emergency=t.emergency,
            )
        if "unparsed" in t.flags:
            signals.text_not_understood.send(sender=Message, conversation=conv, message=inbound)
    if t.emergency:
        log.warning("EMERGENCY outcome for %s: %s", mask(address), ",".join(t.state.reasons))
    return InboundResult(replies=t.replies, emergency=t.emergency, conversation_id=conv.pk)


def _person_locked(address: str) -> tuple[Person, Conversation | None, bool]:
    """The sender, locked (created if new), their active conversation if they have one, and
    whether they were created by this text.

    Someone mid-conversation, the usual case, costs one statement: the person and the active
    conversation locked together, the person first, as everywhere else that locks both (no
    deadlock). Locked rows are re-read by PostgreSQL if a text just before this one changed them
    while this one waited, so neither is stale; if that text ended the conversation, the row no
    longer matches and the person alone is locked below.
    """
    fast = inbound_sql.enabled()
    if fast:
        # The same statements in plain SQL: the ORM took longer to build them than to run them.
        pair = inbound_sql.person_and_conversation_locked(address)
        if pair is not None:
            return (*pair, False)
    else:
        conv = (
            Conversation.objects.select_related("person")
            .select_for_update(no_key=True, of=("person", "self"))
            .filter(person__address=address, status=Conversation.Status.ACTIVE)
            .first()
        )
        if conv is not None:
            return conv.person, conv, False
    while True:
        # no_key: a person's texts still queue one at a time, but foreign-key checks of rows that
        # point at the person (an alert being updated by the notifier) are not blocked.
        locked = (
            inbound_sql.person_locked(address)
            if fast
            else Person.objects.select_for_update(no_key=True).filter(address=address).first()
        )
        if locked is not None:
            return locked, None, False
        person = Person(address=address, **person_classify(address))
        # An erased person texting again is never texted first (emergencies are answered).
        if fast:
            # The suppression is looked up by the INSERT itself.
            suppression = privacy.address_hash(address, phone=person.phone)
            if not inbound_sql.person_insert(person, address_hash=suppression):
                continue  # created by a concurrent request a moment ago: lock that one
        else:
            if privacy.is_suppressed(address):
                person.opted_out_at = timezone.now()
            try:
                with transaction.atomic():
                    person.save(force_insert=True)
            except IntegrityError:  # created by a concurrent request a moment ago
                continue
        # Ours since the INSERT (nobody else sees the row before commit).
        return person, None, True


def _new_conversation(person: Person) -> Conversation:
    conv = Conversation(person=person, language=person.language)
    if inbound_sql.enabled():
        inbound_sql.insert(conv)  # the ORM's INSERT cost a first text more than the rest
    else:
        conv.save(force_insert=True)
    return conv


def _active_conversation(person: Person) -> Conversation:
    conv = person.conversations.filter(status=Conversation.Status.ACTIVE).first()
    if conv is None and person.opted_out:
        # Texts after STOP stay with the stopped episode instead of opening empty new ones.
        conv = person.conversations.order_by("-started_at", "-id").first()
    return conv or Conversation.objects.create(person=person, language=person.language)


def _followup_context(conv: Conversation) -> dict:
    """The latest check-in sent in this episode and the weeks since its outcome."""
    if conv.outcome_at is None:
        return {}
    latest = checkin_latest_sent(conv)
    return {
        "checkin": (
            engine.Checkin(id=latest.pk, kind=latest.kind, key=latest.message_key)
            if latest
            else None
        ),
        "elapsed_weeks": (timezone.now() - conv.outcome_at).total_seconds() / WEEK_SECONDS,
    }


def _apply(
    person: Person,
    conv: Conversation,
    t: engine.Transition,
    content_version: int = 0,
) -> tuple[Conversation, bool, bool]:
    """Apply the transition. Returns the conversation (a new one after RESTART), unsaved;
    whether its outcome is news (a first or raised tier, an emergency); and whether the
    person's PERSON_FIELDS changed unsaved. The caller saves them with the text and its replies,
    then sends `outcome_recorded` if the outcome is news."""
    now = timezone.now()
    before_language = person.language
    if t.language and t.language != person.language:
        person.language = t.language
    if t.action == "opt_out":
        person.opted_out_at = now
        checkins_cancel(person, "opted out")  # START will not bring them back
    elif t.action == "opt_in":
        person.opted_out_at = None
        privacy.suppression_remove(person.address)  # their own request
    person_changed = person.language != before_language or t.action in ("opt_out", "opt_in")
    if person_changed and (t.action in ("restart", "opt_in") or not inbound_sql.enabled()):
        # Saved now where what follows may read it back; otherwise with the text, by the caller.
        person.save(update_fields=PERSON_FIELDS)
        person_changed = False

    if t.action in ("restart", "opt_in") and conv.status != Conversation.Status.ACTIVE:
        conv = Conversation.objects.create(person=person, language=person.language)
    elif t.action == "restart" or (
        # START after a carrier opt-out (no STOP text, so the episode is still active): the
        # engine starts them afresh, so that episode ends as after RESTART. An episode that
        # never began (an erased number's first text) is kept, not closed empty.
        t.action == "opt_in" and engine.State.from_dict(conv.state).phase != "new"
    ):
        conv.status = Conversation.Status.CLOSED
        conv.save(update_fields=["status", "updated_at"])
        checkins_cancel(person, "new triage")
        conv = Conversation.objects.create(person=person, language=person.language)

    conv.state = t.state.to_dict()
    conv.language = person.language
    if t.checkin_answer and t.checkin_answer.get("id"):
        checkin_record_answer(
            t.checkin_answer["id"], t.checkin_answer["pain_score"], t.checkin_answer["trend"]
        )
    raised = False
    if t.outcome is not None:
        before = conv.tier
        conv.tier = max(int(t.outcome.tier), conv.tier if conv.tier is not None else -1)
        conv.reasons = list(t.state.reasons)
        conv.content_version = content_version or None
        if conv.outcome_at is None:
            conv.outcome_at = now
            conv.texts_to_outcome = t.state.texts_in
        raised = conv.tier != before
        if raised and t.action != "opt_out":
            # A first outcome, or a higher tier later: that tier's plan replaces what was pending
            # (an emergency cancels everything; a clinician follows up). The conversation is
            # saved by the caller: scheduling reads only its id.
            checkins_schedule(conv, conv.tier, now)
    if t.action == "opt_out":
        conv.status = Conversation.Status.STOPPED
    return conv, raised or t.emergency, person_changed


# ---------------------------------------------------------------- delivery status callbacks

# Twilio's MessageStatus values -> ours, and how far along each is (a late "sent" callback
# never overwrites "delivered").
CALLBACK_STATUS: dict[str, str | None] = {
    "accepted": Message.Status.QUEUED,
    "scheduled": Message.Status.QUEUED,
    "queued": Message.Status.QUEUED,
    "sending": Message.Status.QUEUED,
    "sent": Message.Status.SENT,
    "delivered": Message.Status.DELIVERED,
    "read": Message.Status.DELIVERED,
    "undelivered": Message.Status.UNDELIVERED,
    "failed": Message.Status.FAILED,
    "canceled": Message.Status.FAILED,
    "partially_delivered": Message.Status.DELIVERED,
    # Inbound statuses: valid Twilio values, nothing to record on an outbound text.
    "receiving": None,
    "received": None,
}
_PROGRESS = {
    Message.Status.QUEUED: 0,
    Message.Status.SENT: 1,
    Message.Status.DELIVERED: 2,
    Message.Status.UNDELIVERED: 3,
    Message.Status.FAILED: 3,
}


def message_record_status(sid: str, twilio_status: str, error_code: int | None) -> bool:
    """Record a delivery status callback on the outbound message. False: no such message.

    A permanent failure updates the person: 21610 means they opted out with the carrier or
    Twilio; an invalid or landline number stops all further texts to it.
    """
    status = CALLBACK_STATUS[twilio_status]
    if status is None:
        return Message.objects.filter(provider_sid=sid).exists()
    with transaction.atomic():
        message = (
            # of=("self",): PostgreSQL refuses FOR UPDATE on the nullable side of the outer join
            # that select_related makes for the optional person.
            Message.objects.select_for_update(of=("self",))
            .select_related("person")
            .filter(provider_sid=sid, direction=Message.Direction.OUTBOUND)
            .first()
        )
        if message is None:
            return False
        if _PROGRESS[status] >= _PROGRESS.get(message.status, -1):
            message.status = status
        if error_code is not None:
            message.error_code = error_code
        message.save(update_fields=["status", "error_code"])
        person = message.person
        if person is None or status not in (Message.Status.UNDELIVERED, Message.Status.FAILED):
            return True
        permanent = error_code == TWILIO_UNSUBSCRIBED or error_code in INVALID_NUMBER_CODES
        checkin_delivery_failed(message, error_code, permanent)
        if permanent:
            person_refused(person, opted_out=error_code == TWILIO_UNSUBSCRIBED)
    if status in (Message.Status.UNDELIVERED, Message.Status.FAILED):
        log.warning("message to %s %s (error %s)", mask(message.address), status, error_code)
    return True


# ---------------------------------------------------------------- staff resending a text


class ResendRefused(Exception):
    """The person must not be texted, or there is nothing to send again."""


def person_text_refusal(person: Person) -> str | None:
    """Why staff may not text this person (None: they may)."""
    if person.erased_at is not None:
        return "their data was erased"
    if person.opted_out:
        return "they opted out (STOP)"
    if person.number_invalid_at is not None or person.kind != Person.Kind.PHONE:
        return "their number cannot receive texts"
    if person.simulated:
        return "they are a simulator session, never texted"
    return None


def message_resend_last(*, person_id: int) -> Message:
    """Send the person's last outbound text again (e.g. it was never delivered) and record it.

    Checked under the person's row lock, so a STOP being handled at the same moment wins.
    Returns the new outbound message: queued, or failed with the provider's error code.
    """
    with transaction.atomic():
        person = Person.objects.select_for_update().get(pk=person_id)
        refusal = person_text_refusal(person)
        if refusal:
            raise ResendRefused(f"Not sent: {refusal}.")
        last = (
            person.messages.filter(direction=Message.Direction.OUTBOUND)
            .exclude(body="")
            .order_by("-created_at", "-id")
            .first()
        )
        if last is None:
            raise ResendRefused("Not sent: nothing was ever sent to this person.")
        message = Message(
            person=person,
            conversation=last.conversation,
            direction=Message.Direction.OUTBOUND,
            address=person.address,
            body=last.body,
            status=Message.Status.QUEUED,
        )
        try:
            message.provider_sid = send_sms(person.phone or person.address, last.body)
        except (SmsError, ImproperlyConfigured) as exc:
            message.status = Message.Status.FAILED
            message.error_code = getattr(exc, "code", None)
            if isinstance(exc, SmsError) and (exc.opted_out or exc.invalid_number):
                person_refused(person, opted_out=exc.opted_out)
            log.warning("resend to %s failed: %s", mask(person.address), redact(str(exc)))
        message.save()
    return message
