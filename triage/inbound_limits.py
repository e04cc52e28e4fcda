"""Which inbound texts get an answer: limits against SMS pumping and auto-responder loops.

`conversation_handle_inbound` stores every text and lets the engine read it first; only then
does `inbound_hold` decide whether the engine's transition is applied and its replies sent. A
held text stays in the transcript (status IGNORED, the reason in its analysis flags) and moves
nothing. Everything is counted in the database under the person's row lock, so the limits hold
with Redis down and with several web workers.

In order (docs/reliability.md, "Attack and bad input"):

1. An emergency is always answered, over any limit. The one exception is an emergency text
   identical to the sender's previous text arriving within EMERGENCY_ECHO_SECONDS of our
   emergency advice to them: a robot echoing (or auto-replying with) words that read as an
   emergency would otherwise ping-pong 911 texts forever; a person who repeats it later is
   answered again, and one who repeats it within the minute has just been sent the advice.
2. STOP is always honoured (one confirmation; later texts from an opted-out number get no
   reply anyway).
3. A text that would raise the conversation's tier is answered: tiers only go up, so this is
   bounded, and holding it could leave an urgent answer unread (never under-triage).
4. More than INBOUND_MAX_TEXTS from one sender within INBOUND_WINDOW_SECONDS (counting every
   text, held ones too, so a steady flood stays held): held, with one notice per window.
5. The same text INBOUND_LOOP_REPEATS times in a row within INBOUND_LOOP_WINDOW_SECONDS that
   tells the engine nothing new (not understood, or the check is already over): held silently.
   "no" to three questions in a row moves the conversation each time, so it is answered.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import replace

from django.conf import settings
from django.db import connection
from django.utils import timezone

from triage import conversation as engine
from triage.models import Message, Person, mask
from triage.understanding import fold

log = logging.getLogger(__name__)

NOTICE_KEY = "sys.inbound_limit"
# Outbound replies carry {"notice": ...} in their analysis so later texts can ask what was sent.
NOTICE_FIELD = "notice"
EMERGENCY_NOTICE = "emergency"
LIMIT_NOTICE = "inbound_limit"
# Not a setting: it only decides how soon an identical emergency text is answered again, and a
# long value would leave a person repeating their emergency unanswered.
EMERGENCY_ECHO_SECONDS = 60

# Reasons a text is held, recorded in its analysis flags.
HELD_OVER_LIMIT = "inbound_limit"
HELD_LOOP = "loop"
HELD_EMERGENCY_ECHO = "emergency_echo"

# State fields that change on any text without the engine learning anything.
_BOOKKEEPING = frozenset({"texts_in", "reasked", "elapsed_weeks"})


def normalise(body: str) -> str:
    """The text as compared for repeats: case, accents, spacing and end punctuation ignored."""
    return " ".join(fold(body).split()).strip(" .,!?")


def reply_analysis(transition: engine.Transition) -> dict[str, str]:
    """The analysis stored on each outbound reply of a normally handled text."""
    return {NOTICE_FIELD: EMERGENCY_NOTICE} if transition.emergency else {}


def inbound_hold(
    *,
    person: Person,
    inbound: Message,
    transition: engine.Transition,
    state_before: dict,
    content: engine.Content,
    recent_count: Callable[[Person, dt.datetime], int] | None = None,
) -> list[str] | None:
    """None: answer this (already stored) text as usual. Otherwise it is held: marked IGNORED
    with the reason, and the returned replies (the notice, or nothing) are recorded as sent.

    `recent_count(person, since)`: how the sender's texts since `since` are counted, if not
    by a query of their own here (the webhook on PostgreSQL counts them in its write)."""
    now = timezone.now()
    reason = _hold_reason(
        person, inbound, transition, state_before, now, recent_count or _recent_count
    )
    if reason is None:
        return None
    inbound.status = Message.Status.IGNORED
    inbound.analysis = {**inbound.analysis, "flags": [*transition.flags, reason]}
    inbound.save()
    replies: list[str] = []
    if reason == HELD_OVER_LIMIT and not person.opted_out and not _notice_sent(person, now):
        uk = person.country in engine.UK_REGIONS
        replies = [replace(content, uk=uk).text(NOTICE_KEY, transition.language or "en")]
        for reply in replies:
            Message.objects.create(
                person=person,
                conversation=inbound.conversation,
                direction=Message.Direction.OUTBOUND,
                address=inbound.address,
                body=reply,
                status=Message.Status.REPLIED,
                analysis={NOTICE_FIELD: LIMIT_NOTICE},
            )
    log.info("inbound from %s held (%s)", mask(inbound.address), reason)
    return replies


def _hold_reason(
    person: Person,
    inbound: Message,
    t: engine.Transition,
    state_before: dict,
    now: dt.datetime,
    recent_count: Callable[[Person, dt.datetime], int],
) -> str | None:
    if t.emergency:
        if _repeats(person, inbound, 1, now - dt.timedelta(seconds=EMERGENCY_ECHO_SECONDS)) and (
            _emergency_advice_sent(person, now)
        ):
            return HELD_EMERGENCY_ECHO
        return None
    if t.action == "opt_out":
        return None
    before = engine.State.from_dict(state_before)
    if t.state.tier > before.tier:
        return None
    window = dt.timedelta(seconds=settings.INBOUND_WINDOW_SECONDS)
    # Simulated people (staff in the simulator) cost nothing to answer and replay long scripts.
    if not person.simulated and recent_count(person, now - window) >= (settings.INBOUND_MAX_TEXTS):
        return HELD_OVER_LIMIT
    loop_since = now - dt.timedelta(seconds=settings.INBOUND_LOOP_WINDOW_SECONDS)
    if _learns_nothing(before, t) and _repeats(
        person, inbound, settings.INBOUND_LOOP_REPEATS - 1, loop_since
    ):
        return HELD_LOOP
    return None


def _inbound_before(person: Person, since: dt.datetime):
    """The sender's texts since `since`, newest first (the text being handled is stored after
    the limits are checked, so it is never among them)."""
    return Message.objects.filter(
        person=person, direction=Message.Direction.INBOUND, created_at__gte=since
    ).order_by("-created_at", "-id")


# The sender's texts since a time, counted up to the limit (params: `recent_params`): a flood
# of thousands costs no more to count than the limit. Plain SQL on the message_person_recent
# index: this runs for nearly every text, and building it with the ORM cost more than running
# it. On PostgreSQL the webhook runs it inside its write (triage/inbound_sql.py).
RECENT_SQL = (
    f"SELECT count(*) AS n FROM (SELECT 1 FROM {Message._meta.db_table}"  # noqa: S608
    " WHERE person_id = %s AND direction = %s AND created_at >= %s LIMIT %s) AS recent"
)


def recent_params(person_id: int, since: dt.datetime) -> list:
    return [
        person_id,
        Message.Direction.INBOUND.value,
        connection.ops.adapt_datetimefield_value(since),
        settings.INBOUND_MAX_TEXTS,
    ]


def _recent_count(person: Person, since: dt.datetime) -> int:
    """The sender's texts since `since`, counted up to the limit (the text being handled is
    stored after this, so it is not among them)."""
    with connection.cursor() as cursor:
        cursor.execute(RECENT_SQL, recent_params(person.pk, since))
        return cursor.fetchone()[0]


def _repeats(person: Person, inbound: Message, count: int, since: dt.datetime) -> bool:
    """The sender's last `count` texts since `since` were all this text."""
    bodies = list(_inbound_before(person, since).values_list("body", flat=True)[:count])
    key = normalise(inbound.body)
    return len(bodies) == count and all(normalise(body) == key for body in bodies)


def _learns_nothing(before: engine.State, t: engine.Transition) -> bool:
    if t.outcome is not None or t.action or t.checkin_answer:
        return False
    if "unparsed" in t.flags:
        return True
    after = t.state.to_dict()
    return all(after[k] == v for k, v in before.to_dict().items() if k not in _BOOKKEEPING)


def _outbound_since(person: Person, since: dt.datetime, notice: str) -> bool:
    return Message.objects.filter(
        person=person,
        direction=Message.Direction.OUTBOUND,
        created_at__gte=since,
        **{f"analysis__{NOTICE_FIELD}": notice},
    ).exists()


def _emergency_advice_sent(person: Person, now: dt.datetime) -> bool:
    since = now - dt.timedelta(seconds=EMERGENCY_ECHO_SECONDS)
    return _outbound_since(person, since, EMERGENCY_NOTICE)


def _notice_sent(person: Person, now: dt.datetime) -> bool:
    since = now - dt.timedelta(seconds=settings.INBOUND_WINDOW_SECONDS)
    return _outbound_since(person, since, LIMIT_NOTICE)
