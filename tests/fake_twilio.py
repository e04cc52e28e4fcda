"""A local stand-in for Twilio's REST API, so tests exercise the real twilio client over HTTP.

    with FakeTwilio(account_sid="AC...", auth_token="secret") as fake:
        # point settings.TWILIO_API_URL at fake.url, then send
        fake.fail_next(status=429, code=20429, times=2)
        fake.delay_next(5)  # the next request answers after 5 s (for timeouts)
        fake.requests[0].form["Body"]

Two endpoints are implemented: `POST /2010-04-01/Accounts/{sid}/Messages.json` (send),
with Twilio's success (201 Message resource) and error ({code, message, more_info, status})
bodies, and `GET` of the same path (the account's messages, newest first, filtered by `To`,
one page of `PageSize`), which lists the texts this fake took (and those of the fakes named
with `shares_messages_with`: one account behind two servers). Use the `fake_twilio` fixture from
tests/conftest.py.
"""

from __future__ import annotations

import base64
import itertools
import json
import math
import re
import threading
import uuid
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

_MESSAGES_PATH = re.compile(r"^/2010-04-01/Accounts/(?P<sid>AC[0-9a-zA-Z]+)/Messages\.json$")

_CREATION = itertools.count()  # shared by every fake, so peers' texts interleave in order

_ERROR_MESSAGES = {
    20003: "Authenticate",
    20404: "The requested resource was not found",
    20429: "Too Many Requests",
    21211: "Invalid 'To' Phone Number",
    21408: "Permission to send an SMS has not been enabled for the region",
    21610: "Attempt to send to unsubscribed recipient",
    21612: "The 'To' phone number is not currently reachable via SMS",
    21614: "'To' number is not a valid mobile number",
}


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    form: dict[str, str]
    account_sid: str | None
    # (username, password) from HTTP Basic auth, or None when absent
    auth: tuple[str, str] | None


@dataclass
class _Failure:
    status: int
    code: int | None
    message: str | None


@dataclass
class _Script:
    failures: list[_Failure] = field(default_factory=list)
    delays: list[float] = field(default_factory=list)


def _parse_basic_auth(header: str | None) -> tuple[str, str] | None:
    if not header or not header.startswith("Basic "):
        return None
    try:
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    except ValueError:
        return None
    return user, password


class FakeTwilio:
    """A threaded HTTP server on 127.0.0.1 with a random port; use as a context manager."""

    def __init__(self, account_sid: str, auth_token: str) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.requests: list[RecordedRequest] = []
        self.sent: list[dict[str, object]] = []  # Message resources returned with 201
        self.listed: list[RecordedRequest] = []  # GETs of the message list
        self._peers: list[FakeTwilio] = []
        self._created: dict[object, int] = {}  # sid -> order of creation across all fakes
        self._script = _Script()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # Scripting -------------------------------------------------------------

    def fail_next(
        self, status: int, code: int | None = None, *, times: int = 1, message: str | None = None
    ) -> None:
        """Answer the next `times` message requests with a Twilio error."""
        with self._lock:
            self._script.failures.extend(_Failure(status, code, message) for _ in range(times))

    def delay_next(self, seconds: float) -> None:
        """Wait `seconds` before answering the next request (cut short when the server stops)."""
        with self._lock:
            self._script.delays.append(seconds)

    def shares_messages_with(self, *others: FakeTwilio) -> None:
        """List the texts `others` took too, as one Twilio account served by several fakes."""
        self._peers.extend(others)

    def taken(self) -> list[dict[str, object]]:
        """Every text this fake and its peers took, oldest first."""
        return [resource for _, resource in sorted(self._taken(), key=lambda pair: pair[0])]

    def _taken(self) -> list[tuple[int, dict[str, object]]]:
        with self._lock:
            mine = [(self._created[r["sid"]], r) for r in self.sent]
        return mine + [pair for peer in self._peers for pair in peer._taken()]

    # Lifecycle -------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self._server is not None, "FakeTwilio is not running"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeTwilio:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeTwilio:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # Request handling (called from server threads) --------------------------

    def _next_delay(self) -> float:
        with self._lock:
            return self._script.delays.pop(0) if self._script.delays else 0.0

    def _next_failure(self) -> _Failure | None:
        with self._lock:
            return self._script.failures.pop(0) if self._script.failures else None

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def _wait(self, seconds: float) -> None:
        self._stopping.wait(seconds)

    def _message_resource(self, form: dict[str, str]) -> dict[str, object]:
        resource = message_resource(
            account_sid=self.account_sid,
            sid="SM" + uuid.uuid4().hex,
            to=form.get("To"),
            sender=form.get("From"),
            service=form.get("MessagingServiceSid"),
            body=form.get("Body", ""),
        )
        self.add_taken(resource)
        return resource

    def add_taken(self, resource: dict[str, object]) -> None:
        """A Message resource the account holds, as if Twilio had created it (a TwiML reply,
        say, or an old text)."""
        with self._lock:
            self.sent.append(resource)
            self._created[resource["sid"]] = next(_CREATION)


def message_resource(
    *,
    account_sid: str,
    sid: str,
    to: str | None,
    sender: str | None,
    service: str | None,
    body: str,
) -> dict[str, object]:
    """The Message resource Twilio answers a create with (201), as the twilio client reads it."""
    now = formatdate(usegmt=True)
    base = f"/2010-04-01/Accounts/{account_sid}/Messages/{sid}"
    return {
        "sid": sid,
        "account_sid": account_sid,
        "messaging_service_sid": service,
        "to": to,
        # With a messaging service Twilio picks the sender later.
        "from": sender,
        "body": body,
        "status": "accepted" if service else "queued",
        "direction": "outbound-api",
        "num_segments": str(_segments(body)),
        "num_media": "0",
        "price": None,
        "price_unit": "USD",
        "error_code": None,
        "error_message": None,
        "api_version": "2010-04-01",
        "date_created": now,
        "date_updated": now,
        "date_sent": None,
        "uri": base + ".json",
        "subresource_uris": {"media": base + "/Media.json"},
    }


def _message_page(fake: FakeTwilio, path: str, query: dict[str, str]) -> dict[str, object]:
    """One page of the account's messages as Twilio lists them: newest first, with the
    paging fields the twilio client reads around the `messages` key."""
    try:
        size = max(1, min(int(query.get("PageSize", "50")), 1000))
    except ValueError:
        size = 50
    taken = [m for m in reversed(fake.taken()) if "To" not in query or m["to"] == query["To"]]
    page = taken[:size]
    return {
        "messages": page,
        "uri": path,
        "first_page_uri": path,
        "next_page_uri": None,  # one page is all a caller here reads
        "previous_page_uri": None,
        "page": 0,
        "page_size": size,
        "start": 0,
        "end": max(0, len(page) - 1),
    }


def _segments(body: str) -> int:
    # GSM-7 only; concatenated messages lose 7 characters each to the join header.
    return 1 if len(body) <= 160 else math.ceil(len(body) / 153)


def _error_body(status: int, code: int | None, message: str | None) -> dict[str, object]:
    return {
        "code": code,
        "message": message or _ERROR_MESSAGES.get(code or 0, "Error"),
        "more_info": f"https://www.twilio.com/docs/errors/{code}" if code else None,
        "status": status,
    }


def _handler_for(fake: FakeTwilio) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # The headers and the body go out in two writes; with Nagle's algorithm the body then
        # waits for the client's delayed ACK (40 ms a request on Linux).
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: object) -> None:
            pass  # keep test output clean

        def _reply(self, status: int, payload: dict[str, object]) -> None:
            data = json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client timed out and hung up, as a timeout test intends

        def _recorded(self, method: str, path: str, form: dict[str, str]) -> RecordedRequest:
            match = _MESSAGES_PATH.match(path)
            return RecordedRequest(
                method=method,
                path=self.path,
                headers=dict(self.headers.items()),
                form=form,
                account_sid=match["sid"] if match else None,
                auth=_parse_basic_auth(self.headers.get("Authorization")),
            )

        def _refused(self, request: RecordedRequest) -> bool:
            """Answer 404 (not the messages list) or 401 (wrong account or credentials)."""
            if request.account_sid is None:
                self._reply(404, _error_body(404, 20404, None))
            elif request.auth != (fake.account_sid, fake.auth_token) or (
                request.account_sid != fake.account_sid
            ):
                self._reply(401, _error_body(401, 20003, None))
            else:
                return False
            return True

        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode()
            form = {key: values[-1] for key, values in parse_qs(raw).items()}
            request = self._recorded("POST", self.path, form)
            fake._record(request)
            fake._wait(fake._next_delay())
            if self._refused(request):
                return
            if (fail := fake._next_failure()) is not None:
                self._reply(fail.status, _error_body(fail.status, fail.code, fail.message))
            elif not form.get("To") or not (form.get("From") or form.get("MessagingServiceSid")):
                self._reply(400, _error_body(400, 21604, "A 'To' and 'From' are required"))
            else:
                self._reply(201, fake._message_resource(form))

        def do_GET(self) -> None:  # noqa: N802
            url = urlsplit(self.path)
            query = {key: values[-1] for key, values in parse_qs(url.query).items()}
            request = self._recorded("GET", url.path, query)
            with fake._lock:
                fake.listed.append(request)
            if not self._refused(request):
                self._reply(200, _message_page(fake, url.path, query))

    return Handler
