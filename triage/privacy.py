"""Privacy: a staff opt-out, erasing a person, the suppression list, and transcript retention.

Called by the admin's buttons (opt out, erase) and by the daily task
`clinic.tasks.delete_old_transcripts`. Erasing keeps what the dashboard counts (tiers, rule ids,
check-in statuses and times) and removes what a person said or could be recognised by (texts,
answers, number, time zone).
docs/privacy.md describes it for staff.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from reminders.models import Checkin
from reminders.services import OPEN, checkins_cancel
from triage.conversation import State
from triage.models import Conversation, Message, Person, Suppression

log = logging.getLogger(__name__)

# Changing it would make every stored hash stop matching: erased people could be texted again.
HASH_PREFIX = "backcheck-suppression-v1:"

# What the engine needs to answer a returning person the way it always does ("you already had
# your advice; text RESTART"), without any of their answers. Everything else in a state is
# something they told us.
_BOOKKEEPING_KEYS = (
    "phase",
    "tier",
    "reasons",
    "texts_in",
    "checkin_id",
    "checkin_kind",
    "checkin_key",
)
_ANSWER_KEYS = [name for name in State.__dataclass_fields__ if name not in _BOOKKEEPING_KEYS]


def _normalised(address: str, phone: str | None = None) -> str:
    if phone is None:
        # triage.services imports this module (suppression on first contact): import it late.
        from triage.services import person_classify

        phone = person_classify(address)["phone"]
    if phone:
        return phone  # E.164: "whatsapp:+1 202 555 0123" and "+12025550123" are one number
    raw = address.strip()
    if raw.lower().startswith("whatsapp:"):
        raw = raw.split(":", 1)[1].strip()
    return raw.casefold()


def address_hash(address: str, *, phone: str | None = None) -> str:
    """SHA-256 (hex) of the normalised address (E.164 for a phone number, SMS and WhatsApp
    alike) behind a fixed prefix: what a Suppression row stores instead of the number.
    `phone`: the address's E.164 ("" for none) when the caller has already worked it out.

    Pseudonymous, not anonymous: there are few enough phone numbers that anyone holding a hash
    can find the number by trying them all. The suppression table stays as access-restricted
    as the people it replaces (no admin page lists it).
    """
    return hashlib.sha256((HASH_PREFIX + _normalised(address, phone)).encode()).hexdigest()


def is_suppressed(address: str) -> bool:
    """Whether this address belonged to an erased person who has not opted back in."""
    return Suppression.objects.filter(address_hash=address_hash(address)).exists()


def suppression_remove(address: str) -> bool:
    """The person texted START from this address: their own request lifts the suppression."""
    deleted, _ = Suppression.objects.filter(address_hash=address_hash(address)).delete()
    return bool(deleted)


def person_opt_out(person: Person, *, reason: str = "staff") -> None:
    """As if they had texted STOP: no more check-ins or flow texts. Safe to repeat.

    An emergency they text later is still answered (the engine does that for anyone opted out).
    """
    now = timezone.now()
    with transaction.atomic():
        locked = Person.objects.select_for_update().get(pk=person.pk)
        if locked.opted_out_at is None:
            locked.opted_out_at = now
            locked.save(update_fields=["opted_out_at", "updated_at"])
        checkins_cancel(locked, f"opted out ({reason})"[:32])
        locked.conversations.filter(status=Conversation.Status.ACTIVE).update(
            status=Conversation.Status.STOPPED, updated_at=now
        )
    person.opted_out_at = locked.opted_out_at


def person_erase(person: Person) -> None:
    """Remove everything the person said and their number; keep the counts. Safe to repeat.

    One transaction: the number goes on the suppression list (as a hash) and the person is opted
    out, so a later text from it opens a new, opted-out person who is never texted first.
    """
    now = timezone.now()
    with transaction.atomic():
        person_opt_out(person, reason="erased")
        locked = Person.objects.select_for_update().get(pk=person.pk)
        erased_address = f"erased:{locked.pk}"
        addresses: set[str] = set()
        if locked.address != erased_address:  # not erased before: the number is still here
            Suppression.objects.get_or_create(address_hash=address_hash(locked.address))
            addresses = {locked.address, locked.phone}
            if locked.phone:
                addresses.add(f"whatsapp:{locked.phone}")
            addresses.discard("")
        Message.objects.filter(
            Q(person=locked) | Q(person__isnull=True, address__in=addresses)
        ).delete()
        Conversation.objects.filter(person=locked).update(state={})
        checkins = Checkin.objects.filter(person=locked)
        checkins.update(pain_score=None, trend="", last_error="", provider_sid="")
        locked.address, locked.phone, locked.timezone = erased_address, "", ""
        locked.erased_at = locked.erased_at or now
        locked.save(update_fields=["address", "phone", "timezone", "erased_at", "updated_at"])
    person.address, person.phone, person.timezone = locked.address, "", ""
    person.opted_out_at, person.erased_at = locked.opted_out_at, locked.erased_at
    log.info("person %s erased", locked.pk)


# ---------------------------------------------------------------- retention


def transcripts_delete_older_than(days: int, *, batch: int = 5000) -> int:
    """Delete messages older than `days` days, `batch` rows a transaction; return how many.

    Check-ins keep their rows (their link to the text becomes empty). Conversations untouched
    for as long lose their answers; their tier, rule ids and times stay. Left alone: a
    conversation with a check-in still to send (its reply needs the state) and an active one
    in the middle of a question.
    """
    if days <= 0:
        raise ValueError("days must be at least 1")
    cutoff = timezone.now() - dt.timedelta(days=days)
    deleted = 0
    while True:
        ids = list(
            Message.objects.filter(created_at__lt=cutoff)
            .order_by("id")
            .values_list("id", flat=True)[:batch]
        )
        if not ids:
            break
        _, per_model = Message.objects.filter(id__in=ids).delete()  # one transaction
        deleted += per_model.get(Message._meta.label, 0)
    cleared = _conversations_clear_answers(cutoff)
    log.info(
        "retention (%s days): %s messages deleted, %s conversations cleared", days, deleted, cleared
    )
    return deleted


def _conversations_clear_answers(cutoff: dt.datetime) -> int:
    open_checkin = Checkin.objects.filter(conversation=OuterRef("pk"), status__in=OPEN)
    old = (
        Conversation.objects.filter(updated_at__lt=cutoff)
        .exclude(state={})
        .exclude(Exists(open_checkin))
    )
    # Ended episodes: nothing of the state is needed again.
    cleared = old.exclude(status=Conversation.Status.ACTIVE).update(state={})
    # Active ones with their outcome given: keep only what answering a returning person needs.
    # (updated_at is left as it was: retention is not activity.)
    active = old.filter(
        status=Conversation.Status.ACTIVE, state__phase="done", state__has_any_keys=_ANSWER_KEYS
    )
    for conv in active.only("id", "state").iterator():
        kept = {k: conv.state[k] for k in _BOOKKEEPING_KEYS if k in conv.state}
        if kept != conv.state:
            Conversation.objects.filter(pk=conv.pk, updated_at__lt=cutoff).update(state=kept)
            cleared += 1
    return cleared
