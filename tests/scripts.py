"""Shared by tests: patient scripts that reach a known outcome, and a signed inbound text."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from urllib.parse import urlencode

from django.test import Client
from twilio.request_validator import RequestValidator

from tests.conftest import FAKE_ACCOUNT_SID, FAKE_FROM_NUMBER

# A strain after lifting, easing, 3 days, 30 years old, no warning signs: ROUTINE (R01), with
# check-ins at 2 and 6 weeks.
ROUTINE_EN = [
    "my upper back hurts after lifting a box",
    "no",
    "no",
    "none",
    "3 better",
    "3 days, lifting, 30",
    "none",
]
# The same in Spanish: ROUTINE (R01).
ROUTINE_ES = [
    "me duele la espalda alta",
    "no",
    "no",
    "nada",
    "3 mejor",
    "3 dias, cargando peso, 30",
    "nada",
]
# ROUTINE_EN with a cough for weeks at the last question: SOON (S03), check-ins at 1 and 6 weeks.
SOON_COUGH_EN = ROUTINE_EN[:-1] + ["A"]
# Pain for seven weeks, no warning signs: SOON (S01), with check-ins at 1 and 6 weeks.
SOON_7_WEEKS_EN = [
    "hurt my upper back lifting at the gym about 7 weeks ago",
    "no",
    "no",
    "none",
    "4 better",
    "35",
]
# A fever at the warning signs: URGENT (U03), with check-ins at 2 days and 6 weeks.
URGENT_FEVER_EN = ["upper back hurts since friday", "no", "nope", "b"]


INBOUND_URL = "http://testserver/twilio/inbound/"


def inbound_form(
    from_: str, body: str, *, account_sid: str = FAKE_ACCOUNT_SID, to: str = FAKE_FROM_NUMBER
) -> dict[str, str]:
    """The form Twilio posts to the inbound webhook for one SMS, under a new MessageSid."""
    sid = "SM" + uuid.uuid4().hex
    return {
        "MessageSid": sid,
        "SmsMessageSid": sid,
        "SmsSid": sid,
        "AccountSid": account_sid,
        "From": from_,
        "To": to,
        "Body": body,
        "NumMedia": "0",
        "NumSegments": "1",
        "SmsStatus": "received",
        "ApiVersion": "2010-04-01",
        "FromCountry": "GB" if from_.startswith("+44") else "US",
        "ToCountry": "US",
    }


def text_signed(client: Client, from_: str, body: str, *, token: str, **extra: str) -> list[str]:
    """POST one inbound SMS to /twilio/inbound/ as Twilio does (its fields, signed with `token`);
    return the bodies of the <Message> replies the patient gets."""
    params = {**inbound_form(from_, body), **extra}
    response = client.post(
        "/twilio/inbound/",
        urlencode(params),
        content_type="application/x-www-form-urlencoded",
        HTTP_X_TWILIO_SIGNATURE=RequestValidator(token).compute_signature(INBOUND_URL, params),
    )
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("application/xml")
    return [m.text or "" for m in ET.fromstring(response.content).iter("Message")]
