"""HTTP streaming as a fuzzing target: states, cases from requests, and the spec oracles.

States: `fresh` (a new connection) and `after-stream` (the same connection after a finite event
stream ran to its end, so the server's keep-alive path is what the case meets).
"""

from __future__ import annotations

import random
import time
import urllib.parse

import h11

from harness.catalogue import Catalogue
from harness.fuzz.driver import Verdict
from harness.fuzz.rtsp_cases import NASTY_VALUES, mutate
from harness.fuzz.wire import Exchange
from reference_impl.common.events import ProtocolError, Violation
from reference_impl.http.connection import ResponseEnd, ResponseHead, ResponseReader

STATES = ("fresh", "after-stream")
WALK_TIMEOUT = 5.0
MALFORMED_WAIT = 0.25
STREAM_GLANCE = 0.15
PATHS = ["/events", "/stream", "/poll", "/longpoll", "/mjpeg", "/publish", "/eventsource.html", "/"]
QUERIES = ["", "count=1", "channel=quiet", "since=-1", "timeout=0", "count=99999999999", "x=%00"]
HEADERS = [
    "Host",
    "Accept",
    "Last-Event-ID",
    "Content-Length",
    "Transfer-Encoding",
    "Connection",
    "Cache-Control",
    "Expect",
    "Range",
]


class HttpFuzz:
    """Drives one connection to an HTTP streaming server through a state, then one case."""

    protocol = "http"
    states = STATES

    def __init__(self, url: str, catalogue: Catalogue, answer_timeout: float = 1.0) -> None:
        self.url = url
        self.catalogue = catalogue
        self.answer_timeout = answer_timeout

    @property
    def _authority(self) -> str:
        return urllib.parse.urlsplit(self.url).netloc

    def walk(self, ex: Exchange, state: str) -> bool:
        if state == "fresh":
            return True
        head = f"GET /events?count=1 HTTP/1.1\r\nHost: {self._authority}\r\n\r\n".encode()
        return self._exchange(ex, head, WALK_TIMEOUT, whole=True) is not None

    def case(self, rng: random.Random, recorded: list[bytes]) -> bytes:
        if recorded and rng.random() < 0.55:
            return mutate(rng.choice(recorded), rng)
        method = rng.choice(["GET", "HEAD", "POST", "PUT", "OPTIONS", "GET", "G\x00T", ""])
        path = rng.choice(PATHS) + ("?" + rng.choice(QUERIES) if rng.random() < 0.6 else "")
        version = rng.choice(["HTTP/1.1", "HTTP/1.1", "HTTP/1.0", "HTTP/2.0", "HTTP/1.x", ""])
        lines = [f"{method} {path} {version}"]
        if rng.random() < 0.9:
            lines.append(f"Host: {self._authority}")
        for _ in range(rng.randrange(0, 4)):
            value = rng.choice([*NASTY_VALUES, "chunked", "text/event-stream", "close", "5"])
            lines.append(f"{rng.choice(HEADERS)}: {value}")
        body = b""
        if rng.random() < 0.2:
            body = rng.choice([b"0\r\n\r\n", b"zz\r\nab\r\n", b"ffffffffffffffffff\r\n", b"x" * 20])
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace") + body

    def recorded_session(self) -> list[bytes]:
        host = self._authority
        return [
            f"GET /events?count=1 HTTP/1.1\r\nHost: {host}\r\nAccept: text/event-stream\r\n"
            "Last-Event-ID: 3\r\n\r\n".encode(),
            f"GET /stream?count=1 HTTP/1.0\r\nHost: {host}\r\n\r\n".encode(),
            f"GET /poll?channel=quiet HTTP/1.1\r\nHost: {host}\r\n\r\n".encode(),
            f"POST /publish?channel=quiet HTTP/1.1\r\nHost: {host}\r\nContent-Length: 5\r\n\r\n"
            "hello".encode(),
            f"POST /publish HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: chunked\r\n\r\n"
            "5\r\nhello\r\n0\r\n\r\n".encode(),
            f"HEAD /events HTTP/1.1\r\nHost: {host}\r\n\r\n".encode(),
        ]

    def judge(self, ex: Exchange, payload: bytes) -> Verdict:
        kind = _classify(payload)
        if not ex.send(payload):
            return Verdict(None)
        method = payload.split(b" ", 1)[0].decode("latin-1", "replace") or "GET"
        reader = ResponseReader(
            "HEAD" if method == "HEAD" else "GET", http10=b"HTTP/1.0" in payload[:200]
        )
        wait = MALFORMED_WAIT if kind == "malformed" else self.answer_timeout
        deadline = time.monotonic() + wait
        while True:
            try:
                if ex.received:  # b"" would tell the reader the server closed
                    reader.receive_data(bytes(ex.received))
            except ProtocolError as exc:
                return Verdict("unframable-response", str(exc), "HTTP-MESSAGE-FRAMING")
            ex.received.clear()
            for event in reader.events():
                if isinstance(event, Violation) and self._is_must(event.requirement_id):
                    return Verdict("must-violation", event.detail, event.requirement_id)
                if isinstance(event, ResponseHead):
                    if kind == "malformed" and 200 <= event.status < 300:
                        return Verdict(
                            "malformed-accepted",
                            f"a malformed request was answered {event.status}",
                            "HTTP-BAD-REQUEST-400",
                        )
                    if kind != "request":
                        return Verdict(None)
                    # A stream may never end: give its body a moment to show its framing.
                    deadline = min(deadline, time.monotonic() + STREAM_GLANCE)
                if isinstance(event, ResponseEnd):
                    return Verdict(None, answered=event.complete and kind == "request")
            chunk = ex.read_some(deadline)
            if chunk == b"":
                if kind == "request" and reader.head is None:
                    return Verdict("closed-without-answer", "a complete request got no answer")
                try:
                    reader.receive_data(b"")
                except ProtocolError:
                    pass
                return Verdict(None)
            if chunk is None:
                return Verdict(None)  # a stream may go on; the health check follows

    def healthy(self, host: str, port: int, timeout: float, ex: Exchange | None = None) -> bool:
        """A short poll on a fresh connection is still answered."""
        poll = f"GET /poll?channel=quiet HTTP/1.1\r\nHost: {self._authority}\r\n\r\n".encode()
        return Exchange.probe(
            host,
            port,
            timeout,
            lambda fresh: self._exchange(fresh, poll, timeout, whole=False) is not None,
        )

    def _exchange(
        self, ex: Exchange, data: bytes, timeout: float, whole: bool
    ) -> ResponseHead | None:
        """Send a valid request; its response head (and, if `whole`, its complete body)."""
        reader = ResponseReader()
        if not ex.send(data):
            return None
        deadline = time.monotonic() + timeout
        while True:
            try:
                if ex.received:
                    reader.receive_data(bytes(ex.received))
            except ProtocolError:
                return None
            ex.received.clear()
            for event in reader.events():
                if isinstance(event, ResponseHead) and not whole:
                    return event
                if isinstance(event, ResponseEnd):
                    return reader.head if event.complete else None
            chunk = ex.read_some(deadline)
            if not chunk:
                return None

    def _is_must(self, requirement_id: str) -> bool:
        return requirement_id in self.catalogue and self.catalogue[requirement_id].level == "MUST"


def _classify(payload: bytes) -> str:
    """How h11, as a server, frames the case: request, malformed, or incomplete."""
    conn = h11.Connection(h11.SERVER)
    conn.receive_data(payload)
    try:
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA or event is h11.PAUSED:
                return "incomplete"
            if isinstance(event, h11.EndOfMessage):
                return "request"
    except h11.RemoteProtocolError:
        return "malformed"


DRIVER = HttpFuzz
