"""Requests to the two Twilio webhooks that must be refused, beyond those in test_webhook.py
and test_status_callback.py: other HTTP methods, a genuine signature replayed to the other
webhook (or to another URL), and status callbacks with no auth token configured.

Twilio signs the full URL it calls, so a request it signed for /twilio/inbound/ must not be
accepted by /twilio/status/: otherwise someone holding one real request could post it, with
its valid signature, where it means something else.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client
from twilio.request_validator import RequestValidator

from tests.conftest import FAKE_ACCOUNT_SID, FAKE_AUTH_TOKEN
from tests.scripts import inbound_form
from triage.models import Message, Person

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("signed_webhook")]

INBOUND, STATUS = "/twilio/inbound/", "/twilio/status/"
PATIENT = "+15551230042"


@pytest.fixture
def sent() -> Message:
    """A text we sent, awaiting delivery callbacks."""
    person = Person.objects.create(address=PATIENT, phone=PATIENT, country="US")
    return Message.objects.create(
        person=person,
        direction=Message.Direction.OUTBOUND,
        address=PATIENT,
        body="How is your back today?",
        provider_sid="SM" + uuid.uuid4().hex,
        status=Message.Status.QUEUED,
    )


def status_form(sid: str) -> dict[str, str]:
    """A callback reporting that Twilio's number stopped this person (it would opt them out)."""
    return {
        "MessageSid": sid,
        "SmsSid": sid,
        "MessageStatus": "failed",
        "SmsStatus": "failed",
        "ErrorCode": "21610",
        "AccountSid": FAKE_ACCOUNT_SID,
        "From": "+15005550006",
        "To": PATIENT,
        "ApiVersion": "2010-04-01",
    }


def post(path: str, params: dict[str, str], signed_for: str, **headers: Any) -> Any:
    signature = RequestValidator(FAKE_AUTH_TOKEN).compute_signature(signed_for, params)
    return Client().post(
        path,
        urlencode(params),
        content_type="application/x-www-form-urlencoded",
        HTTP_X_TWILIO_SIGNATURE=signature,
        **headers,
    )


def unchanged(message: Message) -> bool:
    message.refresh_from_db()
    person = Person.objects.get(address=PATIENT)
    return message.status == Message.Status.QUEUED and not person.opted_out


def inbound_count() -> int:
    return Message.objects.filter(direction=Message.Direction.INBOUND).count()


@pytest.mark.parametrize("path", [INBOUND, STATUS])
@pytest.mark.parametrize("method", ["get", "head", "put", "patch", "delete", "options"])
def test_it_accepts_only_post_on_the_webhooks(path: str, method: str) -> None:
    response = getattr(Client(), method)(path)

    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert Message.objects.count() == 0


def test_it_refuses_a_status_callback_signed_for_the_inbound_webhook(sent: Message) -> None:
    response = post(STATUS, status_form(sent.provider_sid), "http://testserver" + INBOUND)

    assert response.status_code == 403
    assert unchanged(sent)


def test_it_refuses_a_text_signed_for_the_status_webhook() -> None:
    response = post(
        INBOUND, inbound_form(PATIENT, "my upper back hurts"), "http://testserver" + STATUS
    )

    assert response.status_code == 403
    assert inbound_count() == 0


def test_it_accepts_the_same_callback_signed_for_its_own_url(sent: Message) -> None:
    """The refusals above are about the URL, not a malformed form."""
    response = post(STATUS, status_form(sent.provider_sid), "http://testserver" + STATUS)

    assert response.status_code == 204
    assert not unchanged(sent)


@pytest.mark.parametrize(
    ("path", "signed_for", "headers"),
    [
        (STATUS + "?replay=1", "http://testserver" + STATUS, {}),
        (STATUS, "http://testserver" + STATUS, {"HTTP_HOST": "localhost"}),
        (STATUS, "https://testserver" + STATUS, {}),
    ],
    ids=["query-string-added", "another-host", "https-signature-over-http"],
)
def test_it_refuses_a_status_callback_replayed_to_another_url(
    sent: Message, path: str, signed_for: str, headers: dict[str, str]
) -> None:
    response = post(path, status_form(sent.provider_sid), signed_for, **headers)

    assert response.status_code == 403
    assert unchanged(sent)


def test_it_refuses_status_callbacks_when_no_auth_token_is_configured(
    sent: Message, settings: Any
) -> None:
    params = status_form(sent.provider_sid)
    signature = RequestValidator(FAKE_AUTH_TOKEN).compute_signature(
        "http://testserver" + STATUS, params
    )
    settings.TWILIO_AUTH_TOKEN = None

    response = Client().post(
        STATUS,
        urlencode(params),
        content_type="application/x-www-form-urlencoded",
        HTTP_X_TWILIO_SIGNATURE=signature,
    )

    assert response.status_code == 403
    assert unchanged(sent)
