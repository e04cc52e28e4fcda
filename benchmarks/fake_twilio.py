"""A minimal, zero-latency stand-in for Twilio's Messages API, for benchmarks only.

tests/fake_twilio.py is the faithful fake the test suite scripts (errors, delays, recorded
requests); it runs http.server threads inside the test process. Here the point is the
opposite: answer `POST /2010-04-01/Accounts/{sid}/Messages.json` with a valid 201 Message
resource as cheaply as possible, in its own process (so it never competes with the code being
measured for the GIL), on one asyncio event loop with a hand-rolled HTTP/1.1 keep-alive parser.

    python -m benchmarks.fake_twilio --account-sid AC... --auth-token t [--latency-ms 0]
        [--record-times]
    # prints "listening http://127.0.0.1:PORT" once ready

--latency-ms delays each Messages answer (without using CPU), to stand in for the real API's
round trip when asking how a latency-bound dispatcher behaves.

--record-times notes the arrival time (time.time(), when the request has been read) of every
Messages request, for the rate-limit benchmark (benchmarks/ratelimit.py).

Besides the Messages endpoint:
    GET  /_stats   {"created": n, "distinct_to": n, "duplicates": n, "rejected": n, "cpu": s}
    GET  /_times   [t, ...] arrival times of Messages requests since the last reset
                   (empty without --record-times)
    POST /_reset   zero the counters (message sids stay unique for the process's lifetime)

`FakeTwilioProcess` starts and stops it from Python and reads the stats.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import resource
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from urllib.parse import parse_qs

from tests.fake_twilio import message_resource

_HEADER_END = b"\r\n\r\n"


class _State:
    def __init__(
        self, account_sid: str, auth_token: str, latency: float = 0.0, record_times: bool = False
    ) -> None:
        self.account_sid = account_sid
        self.record_times = record_times
        self.times: list[float] = []
        self.latency = latency  # seconds before each Messages answer (0: at once)
        self.path = f"/2010-04-01/Accounts/{account_sid}/Messages.json".encode()
        credentials = base64.b64encode(f"{account_sid}:{auth_token}".encode()).decode()
        self.authorization = f"Basic {credentials}".encode()
        self.prefix = os.urandom(4).hex()  # sids unique across fake processes, too
        self.serial = 0
        self.to_counts: Counter[str] = Counter()
        self.created = 0
        self.rejected = 0

    def stats(self) -> dict[str, object]:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return {
            "created": self.created,
            "distinct_to": len(self.to_counts),
            "duplicates": sum(n - 1 for n in self.to_counts.values() if n > 1),
            "rejected": self.rejected,
            "cpu": usage.ru_utime + usage.ru_stime,
        }

    def reset(self) -> None:
        self.to_counts.clear()
        self.times.clear()
        self.created = 0
        self.rejected = 0

    def message(self, form: dict[str, list[str]]) -> bytes:
        self.serial += 1
        sid = f"SM{self.prefix}{self.serial:024x}"
        to = form.get("To", [""])[-1]
        sender = form.get("From", [None])[-1]
        service = form.get("MessagingServiceSid", [None])[-1]
        body = form.get("Body", [""])[-1]
        self.to_counts[to] += 1
        self.created += 1
        resource_ = message_resource(
            account_sid=self.account_sid, sid=sid, to=to, sender=sender, service=service, body=body
        )
        return json.dumps(resource_).encode()


def _response(status: str, body: bytes) -> bytes:
    head = (
        f"HTTP/1.1 {status}\r\n"
        "Content-Type: application/json; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Connection: keep-alive\r\n\r\n"
    )
    return head.encode() + body


def _error(status: int, reason: str, code: int, message: str) -> bytes:
    body = json.dumps({"code": code, "message": message, "more_info": None, "status": status})
    return _response(f"{status} {reason}", body.encode())


class _Protocol(asyncio.Protocol):
    def __init__(self, state: _State) -> None:
        self.state = state
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(_HEADER_END)
            if end < 0:
                return
            head = self.buffer[:end].split(b"\r\n")
            length = 0
            authorization = b""
            for line in head[1:]:
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"authorization":
                    authorization = value.strip()
            start = end + len(_HEADER_END)
            if len(self.buffer) < start + length:
                return
            body = self.buffer[start : start + length]
            self.buffer = self.buffer[start + length :]
            method, path, *_ = head[0].split(b" ")
            assert self.transport is not None
            response = self.handle(method, path, authorization, body)
            if self.state.latency and path == self.state.path:
                # One request at a time per connection (the client waits), so order holds.
                asyncio.get_running_loop().call_later(self.state.latency, self._write, response)
            else:
                self.transport.write(response)

    def _write(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def handle(self, method: bytes, path: bytes, authorization: bytes, body: bytes) -> bytes:
        state = self.state
        if method == b"POST" and path == state.path:
            if state.record_times:
                state.times.append(time.time())
            if authorization != state.authorization:
                state.rejected += 1
                return _error(401, "Unauthorized", 20003, "Authenticate")
            form = parse_qs(body.decode())
            if not form.get("To") or not (form.get("From") or form.get("MessagingServiceSid")):
                state.rejected += 1
                return _error(400, "Bad Request", 21604, "A 'To' and 'From' are required")
            return _response("201 Created", state.message(form))
        if method == b"GET" and path == b"/_stats":
            return _response("200 OK", json.dumps(state.stats()).encode())
        if method == b"GET" and path == b"/_times":
            return _response("200 OK", json.dumps(state.times).encode())
        if method == b"POST" and path == b"/_reset":
            state.reset()
            return _response("200 OK", b"{}")
        state.rejected += 1
        return _error(404, "Not Found", 20404, "The requested resource was not found")


async def _serve(state: _State, port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: _Protocol(state), "127.0.0.1", port)
    bound = server.sockets[0].getsockname()[1]
    print(f"listening http://127.0.0.1:{bound}", flush=True)
    async with server:
        await server.serve_forever()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--account-sid", required=True)
    parser.add_argument("--auth-token", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument(
        "--latency-ms", type=float, default=0.0, help="delay before each Messages answer"
    )
    parser.add_argument(
        "--record-times", action="store_true", help="note each Messages request's arrival time"
    )
    args = parser.parse_args(argv)
    state = _State(args.account_sid, args.auth_token, args.latency_ms / 1000, args.record_times)
    try:
        asyncio.run(_serve(state, args.port))
    except KeyboardInterrupt:
        pass


class FakeTwilioProcess:
    """Runs the fake in a child process: `with FakeTwilioProcess(sid, token) as fake: fake.url`."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        latency_ms: float = 0.0,
        *,
        record_times: bool = False,
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.latency_ms = latency_ms
        self.record_times = record_times
        self.url = ""
        self._process: subprocess.Popen[str] | None = None

    def __enter__(self) -> FakeTwilioProcess:
        self._process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "benchmarks.fake_twilio",
                "--account-sid",
                self.account_sid,
                "--auth-token",
                self.auth_token,
                "--latency-ms",
                str(self.latency_ms),
                *(["--record-times"] if self.record_times else []),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._process.stdout is not None
        line = self._process.stdout.readline().strip()
        if not line.startswith("listening "):
            self.__exit__(None, None, None)
            raise RuntimeError(f"fake Twilio did not start: {line!r}")
        self.url = line.split(" ", 1)[1]
        return self

    def __exit__(self, *exc: object) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def stats(self) -> dict[str, float]:
        with urllib.request.urlopen(self.url + "/_stats", timeout=10) as response:
            return json.loads(response.read())

    def times(self) -> list[float]:
        with urllib.request.urlopen(self.url + "/_times", timeout=30) as response:
            return json.loads(response.read())

    def reset(self) -> None:
        request = urllib.request.Request(self.url + "/_reset", data=b"", method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()


if __name__ == "__main__":
    main()
