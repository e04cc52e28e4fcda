"""The Twilio backend's urllib3 client (triage/sms/twilio_http.py) against the requests one.

The twilio package's Client builds every request either way; these tests check that what
reaches Twilio (here tests/fake_twilio.py) and what a send reports back are the same as with
the package's own requests-based client, and that TLS, timeouts and proxies still work.
"""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FAKE_ACCOUNT_SID, FAKE_AUTH_TOKEN
from tests.fake_twilio import FakeTwilio, RecordedRequest, _handler_for
from triage.sms import SmsError
from triage.sms.twilio import ApiUrlHttpClient, ApiUrlUrllib3HttpClient, TwilioBackend
from triage.sms.twilio_http import Urllib3HttpClient, form_encode

TO = "+15551230000"
TLS = Path(__file__).parent / "tls"
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")
CA_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")


@pytest.fixture(autouse=True)
def _no_proxy_or_ca_bundle(monkeypatch: pytest.MonkeyPatch) -> None:
    # The machine running the tests may set any of these; each test sets what it needs.
    for name in PROXY_VARIABLES + CA_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


def backend_with_requests() -> TwilioBackend:
    """The Twilio backend on the twilio package's own HTTP client, as before urllib3."""
    backend = TwilioBackend()
    backend.http_client = ApiUrlHttpClient()
    return backend


def backend_with_urllib3() -> TwilioBackend:
    backend = TwilioBackend()
    assert isinstance(backend.http_client, ApiUrlUrllib3HttpClient)
    return backend


def sent_request(backend: TwilioBackend, fake: FakeTwilio, body: str) -> RecordedRequest:
    backend.send(TO, body)
    return fake.requests[-1]


def send_error(backend: TwilioBackend) -> SmsError:
    with pytest.raises(SmsError) as excinfo:
        backend.send(TO, "hi")
    return excinfo.value


# Same requests, same answers ------------------------------------------------------


def test_it_sends_through_urllib3_when_no_proxy_is_configured() -> None:
    assert type(TwilioBackend().http_client) is ApiUrlUrllib3HttpClient


@pytest.mark.parametrize(
    "body",
    [
        "How is your back today? Reply with a number from 0 to 10.",
        # Spanish and an emoji (UCS-2), and characters that mean something in a form body.
        "¿Cómo está su espalda hoy? Responda 0-10 🙂",
        "Pain 7/10 & worse + numb? a=b; 100% sure #1",
    ],
)
@pytest.mark.parametrize("messaging_service", [False, True])
def test_it_posts_the_same_request_as_the_requests_client(
    fake_twilio: FakeTwilio, settings: Any, body: str, messaging_service: bool
) -> None:
    settings.TWILIO_WEBHOOK_BASE_URL = "https://sms.example.org"
    if messaging_service:
        settings.TWILIO_MESSAGING_SERVICE_SID = "MG" + "1" * 32
    before = sent_request(backend_with_requests(), fake_twilio, body)
    after = sent_request(backend_with_urllib3(), fake_twilio, body)

    assert after.form["Body"] == body
    assert (after.method, after.path, after.form, after.auth) == (
        before.method,
        before.path,
        before.form,
        before.auth,
    )
    assert after.auth == (FAKE_ACCOUNT_SID, FAKE_AUTH_TOKEN)
    # Every header, Authorization, Content-Type, User-Agent and Content-Length included.
    assert {k.lower(): v for k, v in after.headers.items()} == {
        k.lower(): v for k, v in before.headers.items()
    }


def test_it_encodes_a_form_as_requests_does() -> None:
    from requests.models import RequestEncodingMixin

    data = {"To": TO, "Body": "a b&c=d+é", "MediaUrl": ["https://x/1", "https://x/2"], "X": None}
    assert form_encode(data) == RequestEncodingMixin._encode_params(data)


def test_it_returns_the_message_sid_twilio_created(fake_twilio: FakeTwilio) -> None:
    sid = backend_with_urllib3().send(TO, "hi")
    assert sid == fake_twilio.sent[-1]["sid"]


@pytest.mark.parametrize(
    ("status", "code", "permanent"),
    [
        (400, 21211, True),  # invalid number
        (400, 21610, True),  # opted out (STOP)
        (429, 20429, False),  # rate limited
        (429, None, False),
        (500, None, False),  # Twilio's outage
        (401, 20003, True),
    ],
)
def test_it_reports_twilio_errors_as_the_requests_client_did(
    fake_twilio: FakeTwilio, status: int, code: int | None, permanent: bool
) -> None:
    fake_twilio.fail_next(status=status, code=code, times=2)
    before = send_error(backend_with_requests())
    after = send_error(backend_with_urllib3())

    assert (after.permanent, after.status, after.code) == (permanent, status, code)
    assert (after.opted_out, after.invalid_number) == (code == 21610, code == 21211)
    assert repr(after) == repr(before)


def test_it_reports_a_timeout_as_retryable(fake_twilio: FakeTwilio, settings: Any) -> None:
    settings.TWILIO_TIMEOUT = 0.3
    fake_twilio.delay_next(5)
    started = time.monotonic()
    error = send_error(backend_with_urllib3())
    assert time.monotonic() - started < 3
    assert (error.permanent, error.status, error.code) == (False, None, None)
    assert "Could not reach Twilio" in str(error)
    assert "timed out" in str(error)


def test_it_does_not_send_a_text_twice_after_a_timeout(
    fake_twilio: FakeTwilio, settings: Any
) -> None:
    # Twilio may have queued a text whose answer never came: the client must not resend it
    # on its own (the dispatcher decides), or the patient could get it twice.
    settings.TWILIO_TIMEOUT = 0.3
    fake_twilio.delay_next(1)
    send_error(backend_with_urllib3())
    time.sleep(1.2)
    assert len(fake_twilio.requests) == 1


def test_it_reuses_one_connection_for_many_texts(fake_twilio: FakeTwilio) -> None:
    backend = backend_with_urllib3()
    for n in range(5):
        backend.send(TO, f"text {n}")
    manager = backend.http_client.pool_manager  # type: ignore[union-attr]
    assert len(manager.pools) == 1
    pool = manager.connection_from_url(fake_twilio.url)
    assert pool.num_connections == 1
    assert pool.num_requests == 5


def test_it_follows_redirects_only_when_asked(fake_twilio: FakeTwilio) -> None:
    class Redirect(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            self.send_response(302)
            self.send_header("Location", fake_twilio.url + "/2010-04-01/Accounts.json")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/old"
    client = Urllib3HttpClient(timeout=5)
    try:
        assert client.request("GET", url).status_code == 302
        followed = client.request("GET", url, allow_redirects=True)
    finally:
        server.shutdown()
        server.server_close()
    assert followed.status_code == 404
    assert '"code": 20404' in followed.text


# Proxies ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "ALL_PROXY"])
def test_it_keeps_the_requests_client_when_a_proxy_is_configured(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.setenv(name, "http://proxy.example:3128")
    client = TwilioBackend().http_client
    assert type(client) is ApiUrlHttpClient
    assert client.session is not None and client.session.trust_env is True


def test_it_sends_through_the_configured_proxy(
    fake_twilio: FakeTwilio, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A proxy on a closed port: the text can only fail if it went to the proxy.
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    error = send_error(TwilioBackend())
    assert error.permanent is False
    assert "proxy" in str(error).lower()
    assert fake_twilio.requests == []


# TLS -------------------------------------------------------------------------------


@contextmanager
def fake_twilio_over_tls() -> Iterator[tuple[FakeTwilio, str]]:
    """The fake Twilio on https://127.0.0.1:PORT, its certificate signed by tls/test_ca.pem."""
    fake = FakeTwilio(FAKE_ACCOUNT_SID, FAKE_AUTH_TOKEN)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(fake))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(TLS / "fake_twilio_127.0.0.1.pem")
    server.socket = context.wrap_socket(server.socket, server_side=True)
    fake._server = server
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield fake, f"https://127.0.0.1:{server.server_address[1]}"
    finally:
        fake.stop()


@pytest.fixture
def tls_fake_twilio(fake_twilio: FakeTwilio, settings: Any) -> Iterator[FakeTwilio]:
    with fake_twilio_over_tls() as (fake, url):
        settings.TWILIO_API_URL = url
        yield fake


def test_it_refuses_a_server_whose_certificate_it_cannot_verify(
    tls_fake_twilio: FakeTwilio,
) -> None:
    # The default bundle (certifi, as requests) does not know the test CA.
    error = send_error(backend_with_urllib3())
    assert error.permanent is False
    assert "CERTIFICATE_VERIFY_FAILED" in str(error)
    assert tls_fake_twilio.requests == []


@pytest.mark.parametrize("name", CA_VARIABLES)
def test_it_trusts_the_ca_bundle_requests_would(
    tls_fake_twilio: FakeTwilio, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.setenv(name, str(TLS / "test_ca.pem"))
    assert backend_with_urllib3().send(TO, "over TLS").startswith("SM")
    assert tls_fake_twilio.requests[0].form["Body"] == "over TLS"
