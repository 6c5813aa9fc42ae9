"""A sans-IO RTSP connection for either role: bytes in, events out, `send(event) -> bytes`.

Like h11: the caller owns the socket and the clock. The connection frames messages and
interleaved `$` frames (RFC 2326 §10.12), checks what the peer sends against the catalogue, and
emits `Violation` events next to the messages instead of raising.
"""

from __future__ import annotations

import enum
from collections import deque

from reference_impl.common.events import ConnectionClosed, Event, NeedData, ProtocolError, Violation
from reference_impl.common.headers import (
    DEFAULT_LIMITS,
    Deviation,
    Limits,
    parse_message,
    violations_for,
)
from reference_impl.rtsp.messages import (
    RTSP_VERSION,
    BadRequest,
    InterleavedFrame,
    Request,
    Response,
    parse_request_line,
    parse_status_line,
    serialize_interleaved,
    serialize_request,
    serialize_response,
)


class Role(enum.Enum):
    CLIENT = "client"
    SERVER = "server"


# RFC 2326 §4.1: lines end in CRLF (receivers tolerate bare LF, senders must not use it).
DEVIATION_IDS = {Deviation.BARE_LF: "RTSP-MSG-CRLF"}

#: every requirement ID this module can report; tests check they are all catalogued
REQUIREMENT_IDS = frozenset(
    {
        "RTSP-MSG-CRLF",
        "RTSP-CSEQ-PRESENT",
        "RTSP-CSEQ-ECHO",
        "RTSP-RESPONSE-VERSION",
        "RTSP-STATUS-LINE",
    }
)


class RTSPConnection:
    """One RTSP connection seen from `our_role`; the peer plays the other role."""

    def __init__(self, our_role: Role, limits: Limits = DEFAULT_LIMITS) -> None:
        self.our_role = our_role
        self.limits = limits
        self._buffer = bytearray()
        self._pending: deque[Event] = deque()
        self._closed = False
        self._awaiting: deque[int] = deque()  # CSeqs of our requests not yet answered, in order

    # -- input -------------------------------------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        """Feed bytes from the peer; b"" means the peer closed."""
        if data:
            self._buffer += data
        else:
            self._closed = True

    def next_event(self) -> Event:
        """The next event, NeedData, or ConnectionClosed once the peer closed and all is read."""
        if self._pending:
            return self._pending.popleft()
        if self._buffer[:1] == b"$":
            return self._next_interleaved()
        parsed = parse_message(self._buffer, 0, self.limits)
        if parsed is None:
            if self._closed:
                if self._buffer.strip():
                    raise ProtocolError("connection closed in the middle of a message")
                return ConnectionClosed()
            return NeedData()
        del self._buffer[: parsed.end]
        message = parsed.message
        violations = violations_for(parsed.deviations, DEVIATION_IDS)
        if self.our_role is Role.SERVER:
            event = self._request_from(message.start_line, message.fields, message.body, violations)
        else:
            event = self._response_from(
                message.start_line, message.fields, message.body, violations
            )
        self._pending.extend(violations)
        return event

    def events(self) -> list[Event]:
        """Every event available now, up to (not including) NeedData."""
        out: list[Event] = []
        while not isinstance(event := self.next_event(), NeedData):
            out.append(event)
            if isinstance(event, ConnectionClosed):
                break
        return out

    def _next_interleaved(self) -> Event:
        if len(self._buffer) < 4:
            if self._closed:
                raise ProtocolError("connection closed inside an interleaved frame header")
            return NeedData()
        length = int.from_bytes(self._buffer[2:4], "big")
        if len(self._buffer) < 4 + length:
            if self._closed:
                raise ProtocolError("connection closed inside an interleaved frame")
            return NeedData()
        frame = InterleavedFrame(self._buffer[1], bytes(self._buffer[4 : 4 + length]))
        del self._buffer[: 4 + length]
        return frame

    def _request_from(
        self,
        start_line: str,
        headers: tuple[tuple[str, str], ...],
        body: bytes,
        violations: list[Violation],
    ) -> Event:
        parts = parse_request_line(start_line)
        if parts is None:
            return BadRequest(start_line, headers)
        method, uri, version = parts
        cseq = next((v for k, v in headers if k.lower() == "cseq"), None)
        # RFC 2326 §12.17: CSeq MUST be present in all requests and responses.
        if cseq is None:
            violations.append(Violation("RTSP-CSEQ-PRESENT", f"{method} request has no CSeq"))
        return Request(method, uri, headers, body, version)

    def _response_from(
        self,
        start_line: str,
        headers: tuple[tuple[str, str], ...],
        body: bytes,
        violations: list[Violation],
    ) -> Event:
        parts = parse_status_line(start_line)
        if parts is None:
            violations.append(
                Violation("RTSP-STATUS-LINE", f"status line {start_line[:80]!r} is malformed")
            )
            version, status, reason = start_line.split(" ", 1)[0], 0, ""
        else:
            version, status, reason = parts
        # RFC 2326 §7.1: a response's Status-Line begins with the protocol version, RTSP/1.0.
        if parts is not None and version != RTSP_VERSION:
            violations.append(
                Violation("RTSP-RESPONSE-VERSION", f"response version is {version}, not RTSP/1.0")
            )
        expected = self._awaiting.popleft() if self._awaiting else None
        cseq = next((v for k, v in headers if k.lower() == "cseq"), None)
        if cseq is None:
            violations.append(Violation("RTSP-CSEQ-PRESENT", f"{status} response has no CSeq"))
        elif expected is not None and cseq.strip() != str(expected):
            violations.append(
                Violation("RTSP-CSEQ-ECHO", f"request had CSeq {expected}, response has {cseq!r}")
            )
        return Response(status, headers, body, reason, version)

    def has_pending_bytes(self) -> bool:
        """Bytes received that do not yet make a whole message or frame."""
        return bool(self._buffer)

    def expect_response(self, cseq: int) -> None:
        """Note that a request with `cseq` was sent by other means (raw bytes in a suite)."""
        self._awaiting.append(cseq)

    # -- output ------------------------------------------------------------------------------

    def send(self, event: Request | Response | InterleavedFrame) -> bytes:
        """Serialise an event as given; a client's request CSeq is remembered for the echo check."""
        if isinstance(event, InterleavedFrame):
            return serialize_interleaved(event)
        if isinstance(event, Response):
            return serialize_response(event)
        cseq = event.header("CSeq")
        if cseq is not None and cseq.isascii() and cseq.isdigit() and self.our_role is Role.CLIENT:
            self._awaiting.append(int(cseq))
        return serialize_request(event)
