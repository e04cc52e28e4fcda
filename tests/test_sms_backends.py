"""Tests for triage/sms: console and locmem backends, and the Twilio backend against FakeTwilio."""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from email.utils import format_datetime
from typing import Any

import pytest

from tests.conftest import FAKE_ACCOUNT_SID, FAKE_AUTH_TOKEN, FAKE_FROM_NUMBER
from tests.fake_twilio import FakeTwilio, message_resource
from triage.sms import SmsError, get_backend, send_sms
from triage.sms.console import ConsoleBackend, mask_number
from triage.sms.locmem import OutboundSms
from triage.sms.twilio import rewrite_api_url

TO = "+15551230000"


# console -----------------------------------------------------------------------


def test_it_masks_numbers_to_the_last_four_digits() -> None:
    assert mask_number("+15551230000") == "+1555…0000"
    assert mask_number("+4412") == "…4412"


def test_it_prints_texts_with_the_number_masked(settings: Any, capsys: Any) -> None:
    settings.SMS_BACKEND_CLASS = "triage.sms.console.ConsoleBackend"
    sid = send_sms(TO, "Hello there")
    out = capsys.readouterr().out
    assert out == "SMS to +1555…0000: Hello there\n"
    assert "1230000" not in out
    assert sid.startswith("console-")


def test_it_gives_each_console_text_its_own_id(capsys: Any) -> None:
    backend = ConsoleBackend()
    assert backend.send(TO, "a") != backend.send(TO, "b")


# locmem ------------------------------------------------------------------------


def test_it_collects_texts_in_the_outbox(locmem_sms: list[OutboundSms]) -> None:
    first = send_sms(TO, "one")
    second = send_sms("+15559870000", "two")
    assert [(sms.to, sms.body) for sms in locmem_sms] == [(TO, "one"), ("+15559870000", "two")]
    assert [sms.sid for sms in locmem_sms] == [first, second]
    assert first.startswith("SMlocmem") and first != second


def test_it_uses_locmem_by_default_in_tests() -> None:
    assert type(get_backend()).__name__ == "LocmemBackend"


# twilio ------------------------------------------------------------------------


def test_it_sends_through_the_twilio_api(fake_twilio: FakeTwilio) -> None:
    sid = send_sms(TO, "Your check-in is due")

    [request] = fake_twilio.requests
    assert request.path == f"/2010-04-01/Accounts/{FAKE_ACCOUNT_SID}/Messages.json"
    assert request.auth == (FAKE_ACCOUNT_SID, FAKE_AUTH_TOKEN)
    expected = base64.b64encode(f"{FAKE_ACCOUNT_SID}:{FAKE_AUTH_TOKEN}".encode()).decode()
    assert request.headers["Authorization"] == f"Basic {expected}"
    assert request.form == {"To": TO, "From": FAKE_FROM_NUMBER, "Body": "Your check-in is due"}
    assert sid == fake_twilio.sent[0]["sid"]
    assert sid.startswith("SM") and len(sid) == 34


def test_it_prefers_the_messaging_service(fake_twilio: FakeTwilio, settings: Any) -> None:
    settings.TWILIO_MESSAGING_SERVICE_SID = "MG" + "1" * 32
    send_sms(TO, "hi")
    form = fake_twilio.requests[0].form
    assert form["MessagingServiceSid"] == "MG" + "1" * 32
    assert "From" not in form


def test_it_asks_for_status_callbacks_at_the_public_url(
    fake_twilio: FakeTwilio, settings: Any
) -> None:
    settings.TWILIO_WEBHOOK_BASE_URL = "https://sms.example.org"
    send_sms(TO, "hi")
    assert (
        fake_twilio.requests[0].form["StatusCallback"] == "https://sms.example.org/twilio/status/"
    )


def test_it_reaches_the_fake_even_with_an_edge_and_region(
    fake_twilio: FakeTwilio, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TWILIO_EDGE", "dublin")
    monkeypatch.setenv("TWILIO_REGION", "ie1")
    assert send_sms(TO, "hi").startswith("SM")
    assert len(fake_twilio.requests) == 1


def _resource(to: str, body: str, *, created: dt.datetime, direction: str) -> dict[str, Any]:
    resource = message_resource(
        account_sid=FAKE_ACCOUNT_SID,
        sid="SM" + uuid.uuid4().hex,
        to=to,
        sender=FAKE_FROM_NUMBER,
        service=None,
        body=body,
    )
    resource.update(direction=direction, date_created=format_datetime(created, usegmt=True))
    return resource


def test_it_asks_twilio_which_texts_it_took_for_a_number(fake_twilio: FakeTwilio) -> None:
    now = dt.datetime.now(dt.UTC)
    fake_twilio.add_taken(
        _resource(TO, "last month's", created=now - dt.timedelta(days=30), direction="outbound-api")
    )
    first = send_sms(TO, "Your two-week check-in")
    send_sms("+15559870000", "someone else's")
    fake_twilio.add_taken(_resource(TO, "a TwiML reply", created=now, direction="reply"))
    second = send_sms(TO, "Your six-week check-in")

    taken = get_backend().taken_for(TO, now - dt.timedelta(seconds=5))

    # Only what the API took for that number since then, newest first, to the second.
    assert [(t.sid, t.body) for t in taken] == [
        (second, "Your six-week check-in"),
        (first, "Your two-week check-in"),
    ]
    assert all(abs(t.created_at - now) < dt.timedelta(seconds=5) for t in taken)
    [request] = fake_twilio.listed
    assert request.method == "GET" and request.auth == (FAKE_ACCOUNT_SID, FAKE_AUTH_TOKEN)
    assert request.path.startswith(f"/2010-04-01/Accounts/{FAKE_ACCOUNT_SID}/Messages.json?")
    assert request.form == {"To": TO, "PageSize": "50"}


def test_asking_twilio_fails_with_an_sms_error(fake_twilio: FakeTwilio, settings: Any) -> None:
    settings.TWILIO_AUTH_TOKEN = "wrong"
    with pytest.raises(SmsError) as refused:
        get_backend().taken_for(TO, dt.datetime.now(dt.UTC))
    assert refused.value.status == 401

    settings.TWILIO_AUTH_TOKEN = FAKE_AUTH_TOKEN
    settings.TWILIO_API_URL = "http://127.0.0.1:9"  # nothing listens: refused at once
    with pytest.raises(SmsError, match="Could not list Twilio messages"):
        get_backend().taken_for(TO, dt.datetime.now(dt.UTC))


@pytest.mark.parametrize(
    "url",
    [
        "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json",
        "https://api.dublin.ie1.twilio.com/2010-04-01/Accounts/AC1/Messages.json",
        "https://api.ie1.twilio.com/2010-04-01/Accounts/AC1/Messages.json",
    ],
)
def test_it_rewrites_api_hosts_to_the_configured_url(url: str) -> None:
    rewritten = rewrite_api_url(url, "http://127.0.0.1:8025/")
    assert rewritten == "http://127.0.0.1:8025/2010-04-01/Accounts/AC1/Messages.json"


def test_it_leaves_edge_hosts_alone_with_the_default_api_url() -> None:
    url = "https://api.dublin.ie1.twilio.com/2010-04-01/Accounts/AC1/Messages.json"
    assert rewrite_api_url(url, "https://api.twilio.com") == url


def test_it_does_not_rewrite_other_hosts() -> None:
    url = "https://api.twilio.com.evil.example/x"
    assert rewrite_api_url(url, "http://127.0.0.1:1") == url


@pytest.mark.parametrize(("status", "code"), [(429, 20429), (500, None), (503, None)])
def test_it_reports_rate_limits_and_outages_as_retryable(
    fake_twilio: FakeTwilio, status: int, code: int | None
) -> None:
    fake_twilio.fail_next(status=status, code=code)
    with pytest.raises(SmsError) as excinfo:
        send_sms(TO, "hi")
    assert excinfo.value.permanent is False
    assert excinfo.value.status == status
    assert excinfo.value.code == code


def test_it_succeeds_once_the_scripted_failures_are_used_up(fake_twilio: FakeTwilio) -> None:
    fake_twilio.fail_next(status=429, code=20429, times=2)
    for _ in range(2):
        with pytest.raises(SmsError):
            send_sms(TO, "hi")
    assert send_sms(TO, "hi").startswith("SM")
    assert len(fake_twilio.requests) == 3


def test_it_reports_an_opted_out_recipient_as_permanent(fake_twilio: FakeTwilio) -> None:
    fake_twilio.fail_next(status=400, code=21610)
    with pytest.raises(SmsError) as excinfo:
        send_sms(TO, "hi")
    error = excinfo.value
    assert (error.permanent, error.opted_out, error.invalid_number) == (True, True, False)
    assert (error.status, error.code) == (400, 21610)


@pytest.mark.parametrize("code", [21211, 21614])
def test_it_reports_an_invalid_number_as_permanent(fake_twilio: FakeTwilio, code: int) -> None:
    fake_twilio.fail_next(status=400, code=code)
    with pytest.raises(SmsError) as excinfo:
        send_sms(TO, "hi")
    assert (excinfo.value.permanent, excinfo.value.invalid_number) == (True, True)
    assert excinfo.value.opted_out is False


@pytest.mark.parametrize("code", [21408, 21612])
def test_it_reports_other_refusals_as_permanent(fake_twilio: FakeTwilio, code: int) -> None:
    fake_twilio.fail_next(status=400, code=code)
    with pytest.raises(SmsError) as excinfo:
        send_sms(TO, "hi")
    assert excinfo.value.permanent is True
    assert excinfo.value.code == code


def test_it_reports_bad_credentials_as_permanent(fake_twilio: FakeTwilio, settings: Any) -> None:
    settings.TWILIO_AUTH_TOKEN = "wrong"
    with pytest.raises(SmsError) as excinfo:
        send_sms(TO, "hi")
    assert (excinfo.value.permanent, excinfo.value.status, excinfo.value.code) == (True, 401, 20003)


def test_it_reports_a_timeout_as_retryable(fake_twilio: FakeTwilio, settings: Any) -> None:
    settings.TWILIO_TIMEOUT = 0.2
    fake_twilio.delay_next(5)
    with pytest.raises(SmsError) as excinfo:
        send_sms(TO, "hi")
    assert excinfo.value.permanent is False
    assert excinfo.value.status is None


def test_it_reports_an_unreachable_api_as_retryable(settings: Any) -> None:
    # The test default: TWILIO_API_URL on a closed port.
    settings.SMS_BACKEND_CLASS = "triage.sms.twilio.TwilioBackend"
    settings.TWILIO_ACCOUNT_SID = FAKE_ACCOUNT_SID
    settings.TWILIO_AUTH_TOKEN = FAKE_AUTH_TOKEN
    settings.TWILIO_FROM_NUMBER = FAKE_FROM_NUMBER
    with pytest.raises(SmsError) as excinfo:
        send_sms(TO, "hi")
    assert excinfo.value.permanent is False
    assert "Could not reach Twilio" in str(excinfo.value)


def test_it_fails_a_test_that_reaches_real_twilio(settings: Any) -> None:
    settings.SMS_BACKEND_CLASS = "triage.sms.twilio.TwilioBackend"
    settings.TWILIO_API_URL = "https://api.twilio.com"
    settings.TWILIO_ACCOUNT_SID = FAKE_ACCOUNT_SID
    settings.TWILIO_AUTH_TOKEN = FAKE_AUTH_TOKEN
    settings.TWILIO_FROM_NUMBER = FAKE_FROM_NUMBER
    with pytest.raises(pytest.fail.Exception, match="tried to reach real Twilio"):
        send_sms(TO, "hi")
