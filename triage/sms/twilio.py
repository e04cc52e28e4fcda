"""SMS backend that sends real texts through Twilio's Messages API.

Reads settings on every send: TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN,
TWILIO_MESSAGING_SERVICE_SID or TWILIO_FROM_NUMBER, TWILIO_WEBHOOK_BASE_URL
(for delivery status callbacks), TWILIO_API_URL and TWILIO_TIMEOUT.

The twilio package's Client builds every request; it goes out through urllib3
(triage/sms/twilio_http.py), or through the package's own requests-based client when
the environment configures a proxy.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from typing import Any

import requests
import urllib3
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from triage.sms.base import BaseSmsBackend, SmsError, TakenSms
from triage.sms.twilio_http import Urllib3HttpClient

DEFAULT_API_URL = "https://api.twilio.com"
# How far back taken_for() reads: one page of the number's messages, newest first. Only the
# last minutes matter to it (a worker's text in flight when it died).
TAKEN_PAGE = 50
STATUS_CALLBACK_PATH = "/twilio/status/"

# api.twilio.com plus the edge/region forms the client builds from
# TWILIO_EDGE/TWILIO_REGION, e.g. api.dublin.ie1.twilio.com.
_API_ORIGIN = re.compile(r"^https://api(?:\.[a-z0-9-]+)*\.twilio\.com(?=[/?]|$)", re.IGNORECASE)


def rewrite_api_url(url: str, api_url: str) -> str:
    """Point a Twilio API URL at `api_url` (a proxy, or the fake server in tests)."""
    if api_url.rstrip("/") == DEFAULT_API_URL:
        # Leave edge/region hosts alone: in production they are the point.
        return url
    return _API_ORIGIN.sub(api_url.rstrip("/"), url, count=1)


class _ApiUrlMixin:
    """Sends to settings.TWILIO_API_URL with settings.TWILIO_TIMEOUT, read on every request."""

    def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        return super().request(  # type: ignore[misc]
            method,
            rewrite_api_url(url, settings.TWILIO_API_URL),
            params=params,
            data=data,
            headers=headers,
            auth=auth,
            timeout=settings.TWILIO_TIMEOUT if timeout is None else timeout,
            allow_redirects=allow_redirects,
        )


class ApiUrlHttpClient(_ApiUrlMixin, TwilioHttpClient):
    """The twilio package's own client (requests), for a proxy configured in the environment."""


class ApiUrlUrllib3HttpClient(_ApiUrlMixin, Urllib3HttpClient):
    """The urllib3 client, used whenever the environment configures nothing for requests."""


def error_from_twilio(exc: TwilioRestException | TwilioServiceException) -> SmsError:
    status = exc.status
    # Without a code in the error body the client fills in the HTTP status;
    # real Twilio codes are five digits, so anything shorter is not one.
    code = exc.code if isinstance(exc.code, int) and exc.code >= 10000 else None
    detail = getattr(exc, "msg", None) or getattr(exc, "title", "") or "no details"
    # Rate limits and Twilio's own outages pass; any other 4xx (opted out,
    # invalid number, bad credentials) fails the same way every time.
    retryable = status == 429 or status >= 500
    return SmsError(
        f"Twilio refused the message (HTTP {status}, code {code}): {detail}",
        permanent=not retryable,
        code=code,
        status=status,
    )


# Proxy variables requests reads (any case). The urllib3 client reads the CA-bundle ones
# (REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE) as requests does, but no proxies: getting proxies,
# their exceptions and authentication right is requests' job.
_PROXY_ENVIRONMENT = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


def _environment_configures_proxies() -> bool:
    return any(name.lower() in _PROXY_ENVIRONMENT for name in os.environ)


def twilio_http_client() -> ApiUrlHttpClient | ApiUrlUrllib3HttpClient:
    """The HTTP client for the twilio Client: urllib3, unless the environment configures a
    proxy, which only the package's requests-based client honours."""
    if _environment_configures_proxies():
        # requests then reads the proxy and CA-bundle variables on every request, as before.
        return ApiUrlHttpClient()
    return ApiUrlUrllib3HttpClient()


class TwilioBackend(BaseSmsBackend):
    def __init__(self) -> None:
        # One HTTP client per backend so connections to Twilio are reused.
        self.http_client = twilio_http_client()
        self._clients: dict[tuple[str, str, str | None, str | None], Client] = {}

    def prepare(self) -> None:
        try:
            # The package builds its API domains and resources on first use (tens of ms).
            self._client().messages  # noqa: B018
        except ImproperlyConfigured:
            pass  # the send reports it

    def _client(self) -> Client:
        if not (settings.TWILIO_ACCOUNT_SID and settings.TWILIO_AUTH_TOKEN):
            raise ImproperlyConfigured(
                "The Twilio SMS backend needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN"
            )
        # Settings are read on every send; a Client is built once per set of credentials.
        key = (
            settings.TWILIO_ACCOUNT_SID,
            settings.TWILIO_AUTH_TOKEN,
            os.environ.get("TWILIO_EDGE"),  # read by the Client from the environment
            os.environ.get("TWILIO_REGION"),
        )
        client = self._clients.get(key)
        if client is None:
            client = self._clients[key] = Client(key[0], key[1], http_client=self.http_client)
        return client

    def _message_params(self, to: str, body: str) -> dict[str, Any]:
        params: dict[str, Any] = {"to": to, "body": body}
        # A messaging service picks the sender from its pool (and handles
        # STOP/HELP keywords per sender), so it wins when both are configured.
        if settings.TWILIO_MESSAGING_SERVICE_SID:
            params["messaging_service_sid"] = settings.TWILIO_MESSAGING_SERVICE_SID
        elif settings.TWILIO_FROM_NUMBER:
            params["from_"] = settings.TWILIO_FROM_NUMBER
        else:
            raise ImproperlyConfigured(
                "The Twilio SMS backend needs TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID"
            )
        if settings.TWILIO_WEBHOOK_BASE_URL:
            params["status_callback"] = settings.TWILIO_WEBHOOK_BASE_URL + STATUS_CALLBACK_PATH
        return params

    def send(self, to: str, body: str) -> str:
        client = self._client()
        try:
            message = client.messages.create(**self._message_params(to, body))
        except (TwilioRestException, TwilioServiceException) as exc:
            raise error_from_twilio(exc) from exc
        except (requests.RequestException, urllib3.exceptions.HTTPError) as exc:
            # Timeouts and dropped connections: Twilio may or may not have queued the text.
            # Giving up would certainly lose it; the dispatcher asks Twilio before retrying.
            raise SmsError(f"Could not reach Twilio: {exc}", in_doubt=True) from exc
        return str(message.sid)

    def taken_for(self, to: str, since: dt.datetime) -> list[TakenSms]:
        """GET Messages.json?To=...: the API-created texts to `to` created since `since`.

        No date filter is sent: Twilio filters by DateSent, which a text still queued has not
        got, and only to the day. date_created is to the second, so `since` is too.
        """
        client = self._client()
        since = since.replace(microsecond=0)
        try:
            page = client.messages.list(to=to, limit=TAKEN_PAGE)
            return [
                TakenSms(str(m.sid), m.body or "", m.date_created)
                for m in page
                # outbound-api: created through the API, as our sends are ("reply" is TwiML).
                if m.direction == "outbound-api"
                and m.date_created is not None
                and m.date_created >= since
            ]
        except (TwilioRestException, TwilioServiceException) as exc:
            raise error_from_twilio(exc) from exc
        except TwilioException as exc:
            # A list page that is not a 200 comes as ("Unable to fetch page", Response).
            response = exc.args[1] if len(exc.args) > 1 else None
            status = getattr(response, "status_code", None)
            raise SmsError(f"Could not list Twilio messages: HTTP {status}", status=status) from exc
        except (requests.RequestException, urllib3.exceptions.HTTPError) as exc:
            raise SmsError(f"Could not list Twilio messages: {exc}") from exc
