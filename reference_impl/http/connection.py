"""The client side of one HTTP/1.1 exchange, framed by h11, checked for streaming rules.

h11 does the framing (RFC 9112: status line, fields, chunked coding with extensions ignored and
trailers, Content-Length, close-delimited bodies). This adds what a streaming client must notice:
a chunked response to an HTTP/1.0 request, a chunked body cut before its last chunk, and the
arrival of each chunk, so that latency can be measured per event.
"""

from __future__ import annotations

from dataclasses import dataclass

import h11

from reference_impl.common.events import Event, ProtocolError, Violation

MAX_HEADERS = 64 * 1024


@dataclass(frozen=True)
class ResponseHead(Event):
    """The status line and header fields of the response."""

    status: int
    reason: str
    http_version: str
    headers: tuple[tuple[str, str], ...]

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    @property
    def chunked(self) -> bool:
        return "chunked" in (self.header("Transfer-Encoding") or "").lower()


@dataclass(frozen=True)
class BodyData(Event):
    """Body bytes as they arrived; `chunk_end` when they close a chunk of a chunked body."""

    data: bytes
    chunk_end: bool


@dataclass(frozen=True)
class ResponseEnd(Event):
    """The body ended; `complete` is False when the connection closed before its framing said."""

    complete: bool
    trailers: tuple[tuple[str, str], ...] = ()


class ResponseReader:
    """Feed the bytes of one response; get ResponseHead, BodyData*, ResponseEnd, Violations."""

    def __init__(self, method: str = "GET", http10: bool = False) -> None:
        self.http10 = http10
        self._conn = h11.Connection(h11.CLIENT, max_incomplete_event_size=MAX_HEADERS)
        # The request itself is written by the caller (possibly as raw HTTP/1.0 bytes); h11 only
        # needs to know one was sent, and whether it was a HEAD.
        self._conn.send(h11.Request(method=method, target="/", headers=[("Host", "x")]))
        self._conn.send(h11.EndOfMessage())
        self._events: list[Event] = []
        self.head: ResponseHead | None = None
        self.ended = False

    def receive_data(self, data: bytes) -> None:
        """Bytes from the server; b"" when it closed the connection."""
        if self.ended:
            return
        self._conn.receive_data(data)
        while True:
            try:
                event = self._conn.next_event()
            except h11.RemoteProtocolError as exc:
                if not data and self.head is not None:
                    self._cut_short(str(exc))
                    return
                raise ProtocolError(f"unframable response: {exc}", "HTTP-MESSAGE-FRAMING") from None
            if event is h11.NEED_DATA or event is h11.PAUSED:
                return
            self._handle(event)
            if self.ended:
                return

    def events(self) -> list[Event]:
        out, self._events = self._events, []
        return out

    @property
    def leftover(self) -> bytes:
        """Bytes received after the end of the response (after HEAD: a body that must not be)."""
        return bytes(self._conn.trailing_data[0])

    def _handle(self, event: object) -> None:
        if isinstance(event, h11.InformationalResponse):
            return
        if isinstance(event, h11.Response):
            headers = tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in event.headers)
            self.head = ResponseHead(
                event.status_code,
                event.reason.decode("latin-1"),
                event.http_version.decode("ascii"),
                headers,
            )
            self._events.append(self.head)
            if self.http10 and self.head.chunked:
                # RFC 9112 §6.1: chunked coding must not be sent to an HTTP/1.0 recipient.
                self._events.append(
                    Violation("HTTP-HTTP10-NO-CHUNKED", "a chunked response to an HTTP/1.0 request")
                )
        elif isinstance(event, h11.Data):
            self._events.append(BodyData(bytes(event.data), bool(event.chunk_end)))
        elif isinstance(event, h11.EndOfMessage):
            trailers = tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in event.headers)
            self._events.append(ResponseEnd(True, trailers))
            self.ended = True
        elif isinstance(event, h11.ConnectionClosed):
            self._cut_short("the connection closed")

    def _cut_short(self, why: str) -> None:
        if self.head is not None and self.head.chunked:
            # RFC 9112 §7.1: a chunked body ends with the last chunk; without it, incomplete.
            self._events.append(
                Violation(
                    "HTTP-CHUNKED-LAST-CHUNK",
                    f"the chunked body ended without a last chunk ({why})",
                )
            )
        self._events.append(ResponseEnd(False))
        self.ended = True
