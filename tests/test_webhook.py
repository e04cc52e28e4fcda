"""The Twilio inbound webhook as Twilio calls it: signed form in, TwiML out, every text logged.

Requests are signed for real with twilio's RequestValidator over the URL the view reconstructs,
so a test passes only if the signature check accepts exactly what Twilio would send.
"""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client
from twilio.request_validator import RequestValidator

from tests.conftest import FAKE_AUTH_TOKEN
from triage.models import Conversation, Message, Person
from triage.sms import locmem

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("signed_webhook")]

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
OUR_NUMBER = "+15005550006"
PATIENT = "+15551230001"
PATH = "/twilio/inbound/"
URL = "http://testserver" + PATH


def new_sid() -> str:
    return "SM" + uuid.uuid4().hex


def twilio_params(body: str = "my upper back hurts", from_: str = PATIENT, **extra: str) -> dict:
    """The form fields Twilio posts for an inbound SMS."""
    sid = extra.pop("MessageSid", None) or new_sid()
    params = {
        "ToCountry": "US",
        "ToState": "CA",
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "ToCity": "",
        "FromZip": "94105",
        "SmsSid": sid,
        "FromState": "CA",
        "SmsStatus": "received",
        "FromCity": "SAN FRANCISCO",
        "Body": body,
        "FromCountry": "US",
        "To": OUR_NUMBER,
        "ToZip": "",
        "NumSegments": "1",
        "MessageSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": from_,
        "ApiVersion": "2010-04-01",
    }
    params.update(extra)
    return params


def sign(params: dict, url: str = URL, token: str = FAKE_AUTH_TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, params)


def post(
    client: Client,
    params: dict,
    *,
    signature: str | None = "",
    path: str = PATH,
    **headers: Any,
):
    """POST form-encoded like Twilio. signature "" = sign for URL; None = no header at all."""
    if signature == "":
        signature = sign(params)
    if signature is not None:
        headers["HTTP_X_TWILIO_SIGNATURE"] = signature
    return client.post(
        path, urlencode(params), content_type="application/x-www-form-urlencoded", **headers
    )


def replies(response) -> list[str]:
    root = ET.fromstring(response.content)
    assert root.tag == "Response"
    return [m.text or "" for m in root.iter("Message")]


def counts() -> tuple[int, int]:
    inbound = Message.objects.filter(direction=Message.Direction.INBOUND).count()
    outbound = Message.objects.filter(direction=Message.Direction.OUTBOUND).count()
    return inbound, outbound


# ---------------------------------------------------------------- signature


def test_it_answers_a_signed_text_with_twiml(client: Client) -> None:
    params = twilio_params("my upper back hurts after lifting a box")
    response = post(client, params)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/xml")
    texts = replies(response)
    assert texts and "BackCheck" in texts[0]
    assert "911" in texts[0]
    # the replies go back in the TwiML only, never also through the SMS backend
    assert locmem.outbox == []
    inbound = Message.objects.get(provider_sid=params["MessageSid"])
    assert inbound.direction == Message.Direction.INBOUND
    assert inbound.body == params["Body"]
    assert inbound.status == Message.Status.RECEIVED
    outbound = list(Message.objects.filter(direction=Message.Direction.OUTBOUND))
    assert [m.body for m in outbound] == texts
    assert {m.address for m in outbound} == {PATIENT}


def test_it_refuses_a_text_without_a_signature(client: Client) -> None:
    response = post(client, twilio_params(), signature=None)

    assert response.status_code == 403
    assert Message.objects.count() == 0
    assert Person.objects.count() == 0


def test_it_refuses_a_wrong_signature(client: Client) -> None:
    response = post(client, twilio_params(), signature="bm90LWEtcmVhbC1zaWduYXR1cmU=")

    assert response.status_code == 403
    assert Message.objects.count() == 0


def test_it_refuses_a_signature_made_with_another_token(client: Client) -> None:
    params = twilio_params()
    response = post(client, params, signature=sign(params, token="someone-elses-token"))

    assert response.status_code == 403
    assert Message.objects.count() == 0


def test_it_refuses_a_text_whose_body_was_changed_after_signing(client: Client) -> None:
    params = twilio_params("my back is a bit stiff")
    signature = sign(params)
    tampered = params | {"Body": "cant feel my legs"}

    response = post(client, tampered, signature=signature)

    assert response.status_code == 403
    assert Message.objects.count() == 0


def test_it_refuses_an_extra_field_added_after_signing(client: Client) -> None:
    params = twilio_params()
    signature = sign(params)

    response = post(
        client, params | {"MediaUrl0": "https://evil.example/x.jpg"}, signature=signature
    )

    assert response.status_code == 403


def test_it_refuses_get(client: Client) -> None:
    response = client.get(PATH, twilio_params())

    assert response.status_code == 405
    assert Message.objects.count() == 0


def test_it_refuses_a_signature_replayed_with_a_query_string(client: Client) -> None:
    params = twilio_params()
    response = post(client, params, signature=sign(params), path=PATH + "?x=1")

    assert response.status_code == 403
    assert Message.objects.count() == 0


def test_it_refuses_a_signature_replayed_to_another_host(client: Client) -> None:
    params = twilio_params()
    response = post(client, params, signature=sign(params), HTTP_HOST="localhost")

    assert response.status_code == 403
    assert Message.objects.count() == 0


def test_it_refuses_a_signature_made_for_https_when_served_over_http(client: Client) -> None:
    params = twilio_params()
    response = post(client, params, signature=sign(params, url="https://testserver" + PATH))

    assert response.status_code == 403


def test_it_accepts_the_public_url_signature_behind_a_proxy(client: Client, settings: Any) -> None:
    settings.TWILIO_WEBHOOK_BASE_URL = "https://sms.example.org"
    params = twilio_params()

    response = post(client, params, signature=sign(params, url="https://sms.example.org" + PATH))

    assert response.status_code == 200
    assert replies(response)
    assert Message.objects.filter(provider_sid=params["MessageSid"]).exists()


def test_it_refuses_the_internal_url_signature_behind_a_proxy(
    client: Client, settings: Any
) -> None:
    settings.TWILIO_WEBHOOK_BASE_URL = "https://sms.example.org"
    params = twilio_params()

    response = post(client, params, signature=sign(params, url=URL))

    assert response.status_code == 403
    assert Message.objects.count() == 0


def test_it_accepts_a_base_url_with_a_trailing_slash(client: Client, settings: Any) -> None:
    settings.TWILIO_WEBHOOK_BASE_URL = "https://sms.example.org/"
    params = twilio_params()

    response = post(client, params, signature=sign(params, url="https://sms.example.org" + PATH))

    assert response.status_code == 200


def test_it_refuses_everything_when_no_auth_token_is_configured(
    client: Client, settings: Any
) -> None:
    params = twilio_params()
    signature = sign(params)
    settings.TWILIO_AUTH_TOKEN = None

    response = post(client, params, signature=signature)

    assert response.status_code == 403
    assert Message.objects.count() == 0


# ---------------------------------------------------------------- malformed requests


@pytest.mark.parametrize("missing", ["MessageSid", "From"])
def test_it_rejects_a_text_missing_a_required_field(client: Client, missing: str) -> None:
    params = twilio_params()
    del params[missing]
    if missing == "MessageSid":
        del params["SmsMessageSid"], params["SmsSid"]

    response = post(client, params)

    assert response.status_code == 400
    assert Message.objects.count() == 0
    assert Person.objects.count() == 0


@pytest.mark.parametrize("sid", ["", "SM123", "SM" + "g" * 32, "SM" + "0" * 33, "hello"])
def test_it_rejects_a_malformed_message_sid(client: Client, sid: str) -> None:
    params = twilio_params(MessageSid="x")
    params.update(MessageSid=sid, SmsMessageSid=sid, SmsSid=sid)

    response = post(client, params)

    assert response.status_code == 400
    assert Message.objects.count() == 0


def test_it_rejects_a_non_numeric_media_count(client: Client) -> None:
    response = post(client, twilio_params(NumMedia="abc"))

    assert response.status_code == 400
    assert Message.objects.count() == 0


def test_it_rejects_a_sender_too_long_to_be_an_address(client: Client) -> None:
    response = post(client, twilio_params(from_="+1" + "5" * 70))

    assert response.status_code == 400
    assert Message.objects.count() == 0


# ---------------------------------------------------------------- idempotency


def test_it_ignores_a_second_delivery_of_the_same_message(client: Client) -> None:
    params = twilio_params("my upper back hurts")
    first = post(client, params)
    conv = Conversation.objects.get()
    state_after_first = conv.state
    before = counts()

    second = post(client, params)

    assert first.status_code == second.status_code == 200
    assert replies(first)
    assert replies(second) == []
    conv.refresh_from_db()
    assert conv.state == state_after_first
    assert conv.state["texts_in"] == 1
    assert counts() == before
    assert Message.objects.filter(provider_sid=params["MessageSid"]).count() == 1
    assert Conversation.objects.count() == 1


def test_it_ignores_a_redelivered_answer_mid_conversation(client: Client) -> None:
    post(client, twilio_params("my upper back hurts"))
    answer = twilio_params("no")
    post(client, answer)
    conv = Conversation.objects.get()
    state = conv.state
    before = counts()

    again = post(client, answer)

    assert replies(again) == []
    conv.refresh_from_db()
    assert conv.state == state
    assert counts() == before


# ---------------------------------------------------------------- odd bodies

ODD_BODIES = {
    "empty": "",
    "1600-chars": ("my upper back hurts " * 80)[:1600],
    "emoji-only": "😭😭",
    "arabic-indic-digit": "٧",
    "sql": "'; DROP TABLE triage_person; --",
    "nul-byte": "my back\x00 hurts",
    "whitespace": " \n\t ",
    "rtl-override": "\u202emy back hurts",
}


@pytest.mark.parametrize("body", list(ODD_BODIES.values()), ids=list(ODD_BODIES))
def test_it_logs_and_answers_odd_bodies_without_crashing(client: Client, body: str) -> None:
    params = twilio_params(body)
    response = post(client, params)

    assert response.status_code in (200, 400)
    if response.status_code == 200:
        texts = replies(response)
        inbound = Message.objects.get(provider_sid=params["MessageSid"])
        assert inbound.body == body.replace("\x00", "")
        assert counts() == (1, len(texts))
    else:
        assert Message.objects.count() == 0


def test_it_keeps_the_database_after_an_sql_injection_attempt(client: Client) -> None:
    post(client, twilio_params("'; DROP TABLE triage_person; --"))
    response = post(client, twilio_params("no"))

    assert response.status_code == 200
    assert Person.objects.get().address == PATIENT
    assert Message.objects.filter(body="'; DROP TABLE triage_person; --").count() == 1


def test_it_does_not_let_a_body_inject_twiml(client: Client) -> None:
    body = "<Response><Message>hi</Message></Response>"
    params = twilio_params(body)
    response = post(client, params)

    assert response.status_code == 200
    root = ET.fromstring(response.content)  # well-formed, or this raises
    messages = list(root.iter("Message"))
    assert len(messages) == Message.objects.filter(direction="out").count()
    assert all(m.text != "hi" for m in messages)
    assert all(len(m) == 0 for m in messages), "a <Message> must not contain child elements"
    assert Message.objects.get(provider_sid=params["MessageSid"]).body == body


def test_it_keeps_a_nul_byte_out_of_the_log(client: Client) -> None:
    params = twilio_params("cant\x00 feel my legs")
    response = post(client, params)

    assert response.status_code == 200
    assert "\x00" not in Message.objects.get(provider_sid=params["MessageSid"]).body


def test_it_logs_a_picture_message_with_its_media(client: Client) -> None:
    params = twilio_params(
        "",
        NumMedia="2",
        MediaUrl0="https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1",
        MediaContentType0="image/jpeg",
        MediaUrl1="https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME2",
        MediaContentType1="image/png",
    )
    response = post(client, params)

    assert response.status_code == 200
    inbound = Message.objects.get(provider_sid=params["MessageSid"])
    assert inbound.num_media == 2
    assert inbound.media_urls == [params["MediaUrl0"], params["MediaUrl1"]]
    assert counts() == (1, len(replies(response)))


def test_it_caps_a_huge_media_count(client: Client) -> None:
    params = twilio_params("hi", NumMedia="99999999999999999999")
    response = post(client, params)

    assert response.status_code == 200
    assert Message.objects.get(provider_sid=params["MessageSid"]).num_media == 10


def test_it_tells_someone_who_sends_only_a_picture_that_it_reads_words(client: Client) -> None:
    question = replies(post(client, twilio_params("my upper back hurts")))[-1]
    response = post(
        client,
        twilio_params("", NumMedia="1", MediaUrl0="https://api.twilio.com/x/Media/ME1"),
    )

    texts = replies(response)
    assert "only read text" in texts[0]
    assert texts[1:] == [question], "the pending question is asked again"
    assert Conversation.objects.get().state["pending"] == "emergency_screen"
    assert Conversation.objects.get().tier is None


@pytest.mark.parametrize(
    "field,value",
    [("From", PATIENT + "\x00"), ("MediaUrl0", "https://api.twilio.com/x/Media/ME\x00")],
    ids=["nul-in-from", "nul-in-media-url"],
)
def test_it_survives_a_nul_byte_in_other_fields(client: Client, field: str, value: str) -> None:
    params = twilio_params("my upper back hurts", NumMedia="1", MediaUrl0="https://x.example/1")
    params[field] = value

    response = post(client, params)

    assert response.status_code in (200, 400)


def test_it_answers_whatsapp(client: Client) -> None:
    sender = "whatsapp:+15551230002"
    params = twilio_params("my upper back hurts", from_=sender, To="whatsapp:" + OUR_NUMBER)
    response = post(client, params)

    assert response.status_code == 200
    texts = replies(response)
    assert texts
    person = Person.objects.get(address=sender)
    assert person.channel == Person.Channel.WHATSAPP
    assert person.phone == "+15551230002"
    assert counts() == (1, len(texts))


def test_it_logs_but_never_answers_a_short_code(client: Client) -> None:
    params = twilio_params("Your code is 123456", from_="12345")
    response = post(client, params)

    assert response.status_code == 200
    assert replies(response) == []
    inbound = Message.objects.get(provider_sid=params["MessageSid"])
    assert inbound.status == Message.Status.IGNORED
    assert Person.objects.get(address="12345").kind == Person.Kind.SHORT_CODE
    assert counts() == (1, 0)
    assert Conversation.objects.count() == 0


def test_it_never_answers_an_alphanumeric_sender(client: Client) -> None:
    params = twilio_params("Your parcel is on its way", from_="Alice")
    response = post(client, params)

    assert response.status_code in (200, 400)
    if response.status_code == 200:
        assert replies(response) == []
        assert Message.objects.get(provider_sid=params["MessageSid"]).status == "ignored"
        assert counts() == (1, 0)
    else:
        assert Message.objects.count() == 0


def test_it_logs_every_text_in_and_out(client: Client) -> None:
    seen_replies = 0
    for i, body in enumerate(["my upper back hurts", "no", "no", "none", "3 better"]):
        response = post(client, twilio_params(body))
        seen_replies += len(replies(response))
        assert counts() == (i + 1, seen_replies)
    logged = Message.objects.filter(direction="in").values_list("body", flat=True)
    assert list(logged) == ["my upper back hurts", "no", "no", "none", "3 better"]
