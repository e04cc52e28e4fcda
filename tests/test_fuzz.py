"""Property-based tests: whatever people (or anyone else) send, nothing raises and nothing 500s.

- the understanding module reads any unicode text (emoji, digits of other scripts, NUL,
  ~2,000 characters) without raising;
- the conversation machine takes any text from any state reachable by texting it, and always
  answers with non-empty texts; "cant feel my legs" is always an emergency unless opted out;
- the Twilio webhooks, signed for real, answer arbitrary field sets with 200/204, 400 or 403.

Profiles are in tests/conftest.py: "ci" (CI=true) runs 10,000 examples a property,
derandomized; "dev" runs 300. Each webhook example runs in a savepoint that is rolled back, so
examples are independent (hypothesis can shrink a failure) and the test database stays small.
"""

from __future__ import annotations

import json
import string
import uuid
from typing import Any
from urllib.parse import quote_from_bytes, urlencode

import pytest
from django.db import transaction
from django.http import QueryDict
from django.test import Client
from hypothesis import event, given, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from reminders.defaults import PLAN
from tests.conftest import FAKE_AUTH_TOKEN
from triage.conversation import Checkin, Person, State, advance
from triage.models import Message
from triage.models import Person as PersonRow
from triage.understanding import (
    _vocabulary,
    analyze,
    parse_age,
    parse_options,
    parse_pain_score,
    parse_trend,
    parse_weeks,
    parse_yes_no,
)

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
INBOUND_PATH = "/twilio/inbound/"
STATUS_PATH = "/twilio/status/"
BASE_URL = "http://testserver"

# ---------------------------------------------------------------- text strategies

# Characters that trip up readers of numbers and words: digits of other scripts, fractions,
# superscripts, fullwidth forms, zero-width joiners, emoji with skin tones, NUL, line breaks.
ODD_CHARS = (
    "0123456789٠١٢٣٤٥٦٧٨٩۰۱۲۳४५६৭๘０１２３½¼⅓²³¹⁄/-+.,!?:;'\"()%#*&<>"
    "ñáéíóúüçßİıſﬁÅ¿¡ \t\n\r\x00\x0b\x0c\x85\u00a0\u2028\u200b\u200d\u202e\ufeff"
    "😀🤕👍🏽❤️🇬🇧\U0001f9b4"
)
REALISTIC = (
    "yes",
    "no",
    "none",
    "A C",
    "ace",
    "b, d and i",
    "3 better",
    "7/10 worse",
    "same",
    "2 weeks, lifting, 45",
    "about a month, I fell, 67",
    "yes I smoke",
    "never smoked",
    "STOP",
    "START",
    "HELP",
    "RESTART",
    "espanol",
    "english",
    "si",
    "no sé",
    "cant feel my legs",
    "my upper back hurts",
    "pain between my shoulder blades",
    "I want to kill myself",
    "booked",
    "saw my GP",
    "gone",
    "",
    " ",
    "?",
    "10",
    "-1",
    "1e9",
    "٣",
    "😀",
)
WORDS = st.sampled_from(sorted(_vocabulary())) | st.sampled_from(REALISTIC)

texts = st.one_of(
    st.text(),  # all of unicode but surrogates (which no form post or SMS can carry)
    st.text(alphabet=ODD_CHARS, max_size=60),
    st.lists(st.one_of(WORDS, st.text(alphabet=ODD_CHARS, max_size=4)), max_size=25).map(" ".join),
    st.sampled_from(REALISTIC),
    # one long word (its typo correction once took 10 s and 2 GB for 1,600 letters)
    st.binary(min_size=20, max_size=2000).map(lambda b: "".join(chr(97 + x % 26) for x in b)),
    # long texts, up to 2,000 characters, built cheaply from a repeated piece
    st.builds(
        lambda piece, times: (piece * times)[:2000],
        st.text(min_size=1, max_size=40) | WORDS.map(lambda w: w + " "),
        st.integers(min_value=20, max_value=400),
    ),
)


# ---------------------------------------------------------------- (a) understanding


@given(texts)
def test_understanding_never_raises(text: str) -> None:
    analysis = analyze(text)
    assert isinstance(analysis.tokens, tuple)
    parse_yes_no(text)
    parse_pain_score(text)
    parse_weeks(text)
    parse_age(text)
    parse_trend(text)
    parse_options(text, "ABCDEFGHI")


# ---------------------------------------------------------------- (b) conversation

EMERGENCY_TEXT = "cant feel my legs"
CHECKINS = st.none() | st.builds(
    Checkin,
    id=st.integers(min_value=1, max_value=4),
    kind=st.sampled_from(sorted({kind for _, _, kind, _ in PLAN})),
    key=st.sampled_from(["", *sorted({key for _, _, _, key in PLAN})]),
)
turns = st.lists(
    st.tuples(
        st.one_of(st.sampled_from(REALISTIC), texts),
        CHECKINS,
        st.floats(min_value=0, max_value=600, allow_nan=False),
    ),
    min_size=1,
    max_size=12,
)


# A fifth of the profile's examples (2,000 under CI): each one is up to twelve texts.
@settings(max_examples=max(50, settings().max_examples // 5))
@given(
    turns=turns,
    country=st.sampled_from([None, "US", "GB"]),
    language=st.sampled_from([None, "en", "es"]),
)
def test_conversation_always_answers(
    turns: list, country: str | None, language: str | None
) -> None:
    state: dict | None = None
    opted_out = False
    for text, checkin, elapsed in turns:
        person = Person(opted_out=opted_out, language=language, country=country)
        t = advance(state, text, person=person, checkin=checkin, elapsed_weeks=elapsed)

        assert all(isinstance(r, str) and r.strip() for r in t.replies), t.replies
        if not opted_out:
            assert t.replies, f"no reply to {text!r}"
        if text == EMERGENCY_TEXT and not opted_out:
            assert t.emergency, f"{text!r} was not an emergency from {state}"
        # stored as the service stores it: JSON in Conversation.state
        state = json.loads(json.dumps(t.state.to_dict(), allow_nan=False))
        assert State.from_dict(state) == t.state
        language = t.language or language
        if t.action == "opt_out":
            opted_out = True
        elif t.action == "opt_in":
            opted_out = False


# ---------------------------------------------------------------- (c) webhooks


def _sid() -> st.SearchStrategy[str]:
    valid = st.builds(lambda u: "SM" + u.hex, st.uuids())
    near = st.builds(
        lambda prefix, digits: prefix + digits,
        st.text(alphabet=string.ascii_letters + "٣é", min_size=0, max_size=3),
        st.text(alphabet=string.hexdigits + "g٣", min_size=30, max_size=34),
    )
    return st.one_of(valid, valid, valid, near, st.text(max_size=70))


SENDERS = st.one_of(
    st.sampled_from(
        [
            "+15551230001",
            "+12025550147",
            "+447700900123",
            "+441481123456",  # Guernsey
            "whatsapp:+15551230001",
            "WhatsApp:+447700900123",
            "whatsapp:",
            "12345",
            "BackCheck",
            "+1555123000",
            " +15551230001 ",
            "+",
            "",
            "+" + "9" * 63,
            "+" + "9" * 64,
        ]
    ),
    st.text(max_size=70),
    st.text(alphabet="+0123456789٠١٢ -()", max_size=20),
)
NUM_MEDIA = st.one_of(
    st.integers(min_value=-3, max_value=15).map(str),
    st.sampled_from(["", " 2 ", "1_0", "٣", "1e3", "+1", "-0", "0x1", "9" * 30, "9" * 5000]),
    st.text(max_size=10),
)
TWILIO_FIELDS = (
    "ToCountry",
    "ToState",
    "SmsMessageSid",
    "NumMedia",
    "SmsSid",
    "SmsStatus",
    "Body",
    "To",
    "NumSegments",
    "MessageSid",
    "AccountSid",
    "From",
    "ApiVersion",
    "MediaUrl0",
    "MediaContentType0",
)
field_names = st.one_of(
    st.sampled_from(TWILIO_FIELDS),
    st.sampled_from([f"MediaUrl{i}" for i in range(12)]),
    st.text(min_size=1, max_size=20),
)


PHONES = st.sampled_from(["+15551230001", "+12025550147", "+447700900123", "+34612345678"])


@st.composite
def inbound_forms(draw: st.DrawFn) -> str:
    """A form body as Twilio would post it, with fields missing, added, odd or overlong.

    Half the forms are well formed but for the body and extra fields, so that many reach the
    conversation (HTTP 200) rather than stop at the field checks (HTTP 400)."""
    well_formed = draw(st.booleans())
    sid = "SM" + draw(st.uuids()).hex if well_formed else draw(_sid())
    params: dict[str, str] = {
        "ToCountry": "US",
        "SmsMessageSid": sid,
        "NumMedia": draw(st.sampled_from(["0", "1", "3"]) if well_formed else NUM_MEDIA),
        "SmsSid": sid,
        "SmsStatus": "received",
        "Body": draw(texts),
        "To": "+15005550006",
        "NumSegments": "1",
        "MessageSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": draw(PHONES if well_formed else SENDERS),
        "ApiVersion": "2010-04-01",
    }
    if not well_formed:
        for name in draw(st.sets(st.sampled_from(sorted(params)), max_size=4)):
            del params[name]
    params.update(draw(st.dictionaries(field_names, st.text(max_size=300), max_size=6)))
    body = urlencode(params)
    if draw(st.integers(0, 9)) == 0:
        # bytes that are not UTF-8 (%FF) reach the view however Django decodes them
        body += "&Body=" + quote_from_bytes(draw(st.binary(max_size=40)))
    return body


def post_signed(client: Client, path: str, body: str, mode: int) -> Any:
    """POST a form body; mode 0-7 signed for real over what Django will parse, 8 unsigned,
    9 signed for another body."""
    headers = {}
    if mode != 8:
        params = QueryDict(body)
        if mode == 9:
            params = params.copy()
            params["Body"] = (params.get("Body") or "") + "!"
        headers["HTTP_X_TWILIO_SIGNATURE"] = RequestValidator(FAKE_AUTH_TOKEN).compute_signature(
            BASE_URL + path, params
        )
    with transaction.atomic():
        response = client.post(
            path, body, content_type="application/x-www-form-urlencoded", **headers
        )
        transaction.set_rollback(True)
    return response


@pytest.mark.django_db
@given(body=inbound_forms(), mode=st.integers(min_value=0, max_value=9))
def test_inbound_webhook_never_fails(signed_webhook: str, body: str, mode: int) -> None:
    response = post_signed(Client(), INBOUND_PATH, body, mode)
    event(f"HTTP {response.status_code}")  # pytest --hypothesis-show-statistics
    assert response.status_code in (200, 400, 403), (response.status_code, response.content)
    if mode >= 8:
        assert response.status_code == 403


@pytest.fixture
def sent_message(db: None) -> Message:
    """An outbound text we sent, for status callbacks that report on it."""
    person = PersonRow.objects.create(address="+15551230009", phone="+15551230009", country="US")
    return Message.objects.create(
        person=person,
        direction=Message.Direction.OUTBOUND,
        address=person.address,
        body="How is your back?",
        provider_sid="SM" + uuid.uuid4().hex,
        status=Message.Status.QUEUED,
    )


STATUSES = st.sampled_from(
    [
        "accepted",
        "queued",
        "sending",
        "sent",
        "delivered",
        "read",
        "undelivered",
        "failed",
        "canceled",
        "partially_delivered",
        "receiving",
        "received",
        " Delivered ",
        "FAILED",
        "",
    ]
)
ERROR_CODES = st.one_of(
    st.sampled_from(["", "21610", "30003", "30005", "30006", "21211", "0", "٣", "²", " 1 "]),
    st.integers(min_value=-10, max_value=10**12).map(str),
    st.text(max_size=12),
)


@st.composite
def status_forms(draw: st.DrawFn, known_sid: str) -> str:
    """A callback on our sent text or another, mostly well formed (to reach the recording)."""
    well_formed = draw(st.booleans())
    sid = draw(st.just(known_sid) if well_formed else st.just(known_sid) | _sid())
    params = {
        "MessageSid": sid,
        "SmsSid": sid,
        "MessageStatus": draw(STATUSES if well_formed else STATUSES | st.text(max_size=20)),
        "SmsStatus": draw(STATUSES),
        "AccountSid": ACCOUNT_SID,
        "From": "+15005550006",
        "To": "+15551230009",
        "ApiVersion": "2010-04-01",
        "ErrorCode": draw(ERROR_CODES),
    }
    if not well_formed:
        for name in draw(st.sets(st.sampled_from(sorted(params)), max_size=3)):
            del params[name]
    params.update(draw(st.dictionaries(field_names, st.text(max_size=100), max_size=4)))
    return urlencode(params)


@pytest.mark.django_db
@settings(max_examples=max(50, settings().max_examples // 5))  # 2,000 under CI
@given(data=st.data(), mode=st.integers(min_value=0, max_value=9))
def test_status_callback_never_fails(
    signed_webhook: str, sent_message: Message, data: st.DataObject, mode: int
) -> None:
    body = data.draw(status_forms(sent_message.provider_sid))
    response = post_signed(Client(), STATUS_PATH, body, mode)
    event(f"HTTP {response.status_code}")
    assert response.status_code in (204, 400, 403), (response.status_code, response.content)
    if mode >= 8:
        assert response.status_code == 403


def test_a_form_the_fuzzer_signs_is_accepted(client: Client, signed_webhook: str, db) -> None:
    """The fuzz posts are signed the way the view checks them: a plain text gets its answer."""
    sid = "SM" + uuid.uuid4().hex
    body = urlencode({"MessageSid": sid, "From": "+15551230001", "Body": "my back hurts"})
    response = post_signed(client, INBOUND_PATH, body, 0)
    assert response.status_code == 200
    assert b"<Message>" in response.content
