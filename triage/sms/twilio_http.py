"""An HTTP client for the twilio package built on urllib3 instead of requests.

The twilio package's Client takes any `twilio.http.HttpClient` (`Client(http_client=...)`);
its default, TwilioHttpClient, goes through a requests Session, whose per-request machinery
(preparing, hooks, adapters, merging environment settings) was about half of a send's CPU.
This client hands the same request (method, URL, form or JSON body, headers, Basic auth) to a
urllib3 PoolManager, which requests itself sends through: keep-alive pools, no retries,
redirects only when asked, and TLS verified against the CA bundle requests would use (see
`ca_bundle_from_environment`).

It does not read proxy variables; the SMS backend keeps the requests client when any is set.
"""

from __future__ import annotations

import base64
import json
import logging
import os
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlencode

import urllib3
from requests import certs
from twilio.http import HttpClient
from twilio.http.request import Request as TwilioRequest
from twilio.http.response import Response

_logger = logging.getLogger("twilio.http_client")

# What a requests Session adds to every request; sent too, so Twilio sees the same request.
_SESSION_HEADERS = {
    "Accept-Encoding": ", ".join(
        urllib3.util.make_headers(accept_encoding=True)["accept-encoding"].split(",")
    ),
    "Connection": "keep-alive",
}

# requests' HTTPAdapter default: no retry at all (a POST that may have reached Twilio is never
# sent twice), and a read error raised as itself.
_NO_RETRIES = urllib3.Retry(0, read=False)
# The same, but following up to requests' limit of 30 redirects when the caller asks (the
# twilio Client never does).
_REDIRECTS_ONLY = urllib3.Retry(total=None, connect=0, read=False, status=0, other=0, redirect=30)

_JSON_TYPES = ("application/json", "application/scim+json")


def form_encode(data: Mapping[str, object] | Iterable[tuple[str, object]]) -> str:
    """Encode `data` as requests encodes a `data=` mapping: list values repeat the key, None
    values are left out."""
    items = data.items() if isinstance(data, Mapping) else data
    pairs: list[tuple[str, object]] = []
    for key, values in items:
        if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
            values = [values]
        pairs.extend((key, value) for value in values if value is not None)
    return urlencode(pairs, doseq=True)


def basic_auth_header(username: str, password: str) -> str:
    # latin-1, as requests encodes str credentials.
    return "Basic " + base64.b64encode(f"{username}:{password}".encode("latin-1")).decode("ascii")


def ca_bundle_from_environment() -> str:
    """The CA bundle (a file or a directory) requests verifies TLS against: REQUESTS_CA_BUNDLE,
    else CURL_CA_BUNDLE, else its own default (certifi). Like requests, ignores OpenSSL's
    SSL_CERT_FILE and SSL_CERT_DIR."""
    return os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or certs.where()


def _charset(content_type: str | None) -> str:
    for part in (content_type or "").split(";")[1:]:
        name, _, value = part.strip().partition("=")
        if name.lower() == "charset" and value:
            return value.strip("'\"")
    # requests' default for application/json; Twilio's API answers only JSON.
    return "utf-8"


class Urllib3HttpClient(HttpClient):
    """A `twilio.http.HttpClient` on a urllib3 PoolManager, one per client (thread-safe)."""

    def __init__(
        self,
        *,
        timeout: float | None = None,
        logger: logging.Logger = _logger,
        pool_maxsize: int | None = None,
        ca_bundle: str | None = None,
    ) -> None:
        super().__init__(logger, False, timeout)
        ca_bundle = ca_bundle or ca_bundle_from_environment()
        self.pool_manager = urllib3.PoolManager(
            # As TwilioHttpClient mounts its adapter: one connection per thread that sends.
            maxsize=pool_maxsize or min(32, (os.cpu_count() or 1) + 4),
            block=False,
            cert_reqs="CERT_REQUIRED",
            # A directory of hashed certificates or one file, as requests tells them apart.
            **({"ca_cert_dir": ca_bundle} if os.path.isdir(ca_bundle) else {"ca_certs": ca_bundle}),
        )
        self._timeouts: dict[float | None, urllib3.Timeout] = {}

    def _timeout(self, seconds: float | None) -> urllib3.Timeout:
        timeout = self._timeouts.get(seconds)
        if timeout is None:
            # Like requests' timeout=seconds: for the connect and for each read.
            timeout = self._timeouts[seconds] = urllib3.Timeout(connect=seconds, read=seconds)
        return timeout

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
        """Send one request; urllib3's errors (timeouts, refused or dropped connections,
        all `urllib3.exceptions.HTTPError`) propagate."""
        if timeout is None:
            timeout = self.timeout
        elif timeout <= 0:
            raise ValueError(timeout)
        method = method.upper()
        kwargs: dict[str, Any] = {
            "method": method,
            "url": url,
            "params": params,
            "data": data,
            "headers": headers,
            "auth": auth,
        }
        if self.logger.isEnabledFor(logging.INFO):
            self.log_request(kwargs)
        self._test_only_last_response = None
        self._test_only_last_request = TwilioRequest(**kwargs)

        if params:
            url += ("&" if "?" in url else "?") + form_encode(params)
        sent_headers = {**_SESSION_HEADERS, **(headers or {})}
        body: str | None = None
        if sent_headers.get("Content-Type") in _JSON_TYPES:
            if data is not None:
                body = json.dumps(data, allow_nan=False)
        elif data:
            body = form_encode(data)
        if auth is not None:
            sent_headers["Authorization"] = basic_auth_header(*auth)

        response = self.pool_manager.urlopen(
            method,
            url,
            body=body.encode("utf-8") if body is not None else None,
            headers=sent_headers,
            retries=_REDIRECTS_ONLY if allow_redirects else _NO_RETRIES,
            redirect=allow_redirects,
            timeout=self._timeout(timeout),
            preload_content=True,
        )
        if self.logger.isEnabledFor(logging.INFO):
            self.log_response(response.status, response)  # type: ignore[arg-type]
        try:
            text = response.data.decode(_charset(response.headers.get("Content-Type")), "replace")
        except LookupError:  # a charset Python does not know; requests falls back the same way
            text = response.data.decode("utf-8", "replace")
        self._test_only_last_response = Response(response.status, text, response.headers)
        return self._test_only_last_response
