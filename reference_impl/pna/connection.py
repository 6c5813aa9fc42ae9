"""A sans-IO PNA connection for either role: bytes in, events out.

As the server it reads the client's request, then its challenge response and keep-alives; as
the client it reads the PNA chunk, the RealMedia headers, the challenge block and the data
packets. Deviations become `Violation` events next to the normal ones (wire.py says where the
rules come from); only bytes that cannot be framed raise `ProtocolError`.
"""

from __future__ import annotations

import enum
import struct
from collections import deque
from dataclasses import dataclass

from reference_impl.common.events import Event, NeedData, ProtocolError, Violation
from reference_impl.pna import rm, wire
from reference_impl.pna.rm import HeaderChunk
from reference_impl.pna.wire import DataPacket, PnaRequest

HEADER_TAGS = (b".RMF", b"PROP", b"MDPR", b"CONT", b"DATA")
MAX_HEADER_CHUNK = 65536  # far above what clients take: the bound is reported, not enforced

#: every requirement ID this module reports; tests check they are all catalogued
REQUIREMENT_IDS = frozenset(
    {
        "PNA-REQ-SIGNATURE",
        "PNA-REQ-CHALLENGE",
        "PNA-REQ-BANDWIDTH",
        "PNA-REQ-GUID",
        "PNA-REQ-CAPS",
        "PNA-REQ-CLIENT-STRING",
        "PNA-REQ-TRAILER",
        "PNA-RESP-PNA-CHUNK",
        "PNA-RESP-SUBCHUNKS",
        "PNA-RESP-HEADERS",
        "PNA-RESP-PROP-SIZE",
        "PNA-RESP-MDPR",
        "PNA-RESP-DATA-HEADER",
        "PNA-RESP-HEADER-BOUND",
        "PNA-DATA-FRAMING",
        "PNA-DATA-INDEX",
        "PNA-DATA-TIMESTAMP",
        "PNA-DATA-LENGTH-MIN",
    }
)


class Role(enum.Enum):
    CLIENT = "client"
    SERVER = "server"


@dataclass(frozen=True)
class RequestReceived(Event):
    """The client's request, whole."""

    request: PnaRequest


@dataclass(frozen=True)
class ChallengeResponse(Event):
    """The client's answer to the server challenge."""

    response: bytes


@dataclass(frozen=True)
class KeepAlive(Event):
    """One keep-alive byte from the client."""


@dataclass(frozen=True)
class Unexpected(Event):
    """Bytes from the client that are none of the above."""

    data: bytes


@dataclass(frozen=True)
class PnaChunkReceived(Event):
    """The server's PNA chunk: its sub-chunks and whether it asks for a challenge response."""

    subchunks: tuple[bytes, ...]
    challenge: bool


@dataclass(frozen=True)
class HeaderReceived(Event):
    """One RealMedia header chunk."""

    chunk: HeaderChunk


@dataclass(frozen=True)
class ChallengeBlock(Event):
    """The 72 bytes after the headers; the data packets follow."""

    data: bytes


@dataclass(frozen=True)
class PacketReceived(Event):
    """One data packet."""

    packet: DataPacket


@dataclass(frozen=True)
class ServerMessage(Event):
    """A message (X) or an error (F) from the server."""

    text: str
    error: bool = False


class _State(enum.Enum):
    REQUEST = "request"
    AFTER_REQUEST = "after-request"
    PNA = "pna"
    HEADERS = "headers"
    DATA = "data"
    DONE = "done"


class PNAConnection:
    """One PNA connection seen from `our_role`."""

    def __init__(self, our_role: Role) -> None:
        self.our_role = our_role
        self._state = _State.REQUEST if our_role is Role.SERVER else _State.PNA
        self._buffer = bytearray()
        self._events: deque[Event] = deque()
        self.headers: list[HeaderChunk] = []
        self._header_bytes = 0
        self._next_index = 0
        self._last_timestamp = -1
        self.packets = 0
        self.closed = False

    def receive_data(self, data: bytes) -> None:
        if data:
            self._buffer += data
        else:
            self.closed = True

    def next_event(self) -> Event:
        while not self._events:
            if not self._step():
                return NeedData()
        return self._events.popleft()

    def events(self) -> list[Event]:
        found: list[Event] = []
        while not isinstance(event := self.next_event(), NeedData):
            found.append(event)
        return found

    def _violation(self, requirement_id: str, detail: str) -> None:
        self._events.append(Violation(requirement_id, detail))

    def _take(self, size: int) -> bytes:
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    def _step(self) -> bool:
        """Parse one item if its bytes are here; False if more are needed."""
        if not self._buffer:
            return False
        step = {
            _State.REQUEST: self._request,
            _State.AFTER_REQUEST: self._from_client,
            _State.PNA: self._pna_chunk,
            _State.HEADERS: self._header,
            _State.DATA: self._packet,
            _State.DONE: self._drop,
        }[self._state]
        return step()

    def _drop(self) -> bool:
        self._buffer.clear()
        return False

    # -- server side: what the client sends -------------------------------------------------

    def _request(self) -> bool:
        try:
            request = wire.parse_request(bytes(self._buffer))
        except wire.Incomplete:
            return False
        except wire.Malformed as exc:
            raise ProtocolError(str(exc), exc.requirement_id) from None
        del self._buffer[: request.size]
        for rid, detail in wire.request_problems(request):
            self._violation(rid, detail)
        self._events.append(RequestReceived(request))
        self._state = _State.AFTER_REQUEST
        return True

    def _from_client(self) -> bool:
        first = self._buffer[0]
        if first == wire.KEEPALIVE[0]:
            self._take(1)
            self._events.append(KeepAlive())
        elif first == wire.RESPONSE_ID:
            if len(self._buffer) < 3 or len(self._buffer) < 3 + self._buffer[2]:
                return False
            size = self._buffer[2]
            self._events.append(ChallengeResponse(self._take(3 + size)[3:]))
        else:
            self._events.append(Unexpected(self._take(len(self._buffer))))
        return True

    # -- client side: what the server sends -------------------------------------------------

    def _pna_chunk(self) -> bool:
        buf = self._buffer
        if len(buf) < 4:
            return False
        if bytes(buf[:4]) != b"PNA\x00":
            raise ProtocolError(
                f"the response starts {bytes(buf[:4])!r}, not PNA\\0", "PNA-RESP-PNA-CHUNK"
            )
        pos, subchunks, challenge = 9, [], False
        while True:
            if len(buf) < pos + 2:
                return False
            kind = buf[pos]
            if kind in (ord("X"), ord("F")):
                return self._message_in_pna(pos)
            if kind == ord("i"):
                challenge, pos = True, pos + 2
            elif kind == 0x4F:
                size = buf[pos + 1]
                if len(buf) < pos + 2 + size:
                    return False
                subchunks.append(bytes(buf[pos + 2 : pos + 2 + size]))
                pos += 2 + size
            else:
                if len(buf) < pos + 3:
                    return False
                pos += 3  # the three ending bytes
                break
            if pos > wire.HEADER_BUFFER:
                raise ProtocolError("a PNA chunk without end", "PNA-RESP-SUBCHUNKS")
        self._header_bytes += pos
        self._take(pos)
        self._events.append(PnaChunkReceived(tuple(subchunks), challenge))
        self._state = _State.HEADERS
        return True

    def _message_in_pna(self, pos: int) -> bool:
        buf = self._buffer
        if buf[pos] == ord("F"):
            self._take(pos + 2)
            self._events.append(ServerMessage("server error", error=True))
            self._state = _State.DONE
            return True
        if len(buf) < pos + 3:
            return False
        size = struct.unpack_from(">H", buf, pos + 1)[0]
        if len(buf) < pos + 3 + size:
            return False
        text = bytes(buf[pos + 3 : pos + 3 + size]).decode("utf-8", "replace")
        self._take(pos + 3 + size)
        self._events.append(ServerMessage(text))
        self._state = _State.DONE
        return True

    def _header(self) -> bool:
        buf = self._buffer
        if len(buf) < 3:
            return False
        skip = 3 if buf[0] == 0x72 else 0  # a three-byte checksum the clients skip
        if len(buf) < skip + 8:
            return False
        tag = bytes(buf[skip : skip + 4])
        size = struct.unpack_from(">I", buf, skip + 4)[0]
        if tag not in HEADER_TAGS:
            return self._challenge_block(skip)
        if size < 8 or size > MAX_HEADER_CHUNK:
            raise ProtocolError(f"{tag!r} header chunk of {size} bytes", "PNA-RESP-HEADERS")
        if len(buf) < skip + size:
            return False
        data = self._take(skip + size)[skip:]
        chunk = HeaderChunk(tag, size, data[8:])
        self.headers.append(chunk)
        self._header_bytes += skip + size
        self._events.append(HeaderReceived(chunk))
        return True

    def _challenge_block(self, skip: int) -> bool:
        if len(self._buffer) < skip + wire.CHALLENGE_BLOCK_SIZE:
            return False
        block = self._take(skip + wire.CHALLENGE_BLOCK_SIZE)[skip:]
        self._check_headers()
        self._events.append(ChallengeBlock(block))
        self._state = _State.DATA
        return True

    def _check_headers(self) -> None:
        tags = [h.tag for h in self.headers]
        if not tags or tags[0] != b".RMF" or b"PROP" not in tags or tags[-1] != b"DATA":
            self._violation(
                "PNA-RESP-HEADERS",
                f"header chunks {[t.decode('latin-1') for t in tags]}: .RMF first, PROP, DATA last",
            )
        for chunk in self.headers:
            if chunk.tag == b"PROP" and chunk.size != rm.PROP_SIZE:
                self._violation("PNA-RESP-PROP-SIZE", f"PROP is {chunk.size} bytes, not 50")
            if chunk.tag == b"DATA" and chunk.size != rm.DATA_HEADER_SIZE:
                self._violation(
                    "PNA-RESP-DATA-HEADER", f"the DATA chunk's size is {chunk.size}, not 18"
                )
        prop = next((h for h in self.headers if h.tag == b"PROP"), None)
        announced = prop.num_streams() if prop is not None else None
        streams = sorted(s[0] for h in self.headers if (s := h.mdpr_stream()) is not None)
        if announced is not None and streams != list(range(announced)):
            self._violation(
                "PNA-RESP-MDPR", f"PROP announces {announced} streams; MDPR numbers {streams}"
            )
        if self._header_bytes >= wire.HEADER_BUFFER:
            self._violation(
                "PNA-RESP-HEADER-BOUND",
                f"{self._header_bytes} bytes of PNA chunk and headers, over the clients' 4096",
            )

    def _packet(self) -> bool:
        buf = self._buffer
        first = buf[0]
        if first in (ord("X"), ord("F")):
            return self._message_in_pna(0)
        if first != ord("Z"):
            self._violation(
                "PNA-DATA-FRAMING", f"byte 0x{first:02x} where a data packet's Z should be"
            )
            self._take(1)  # the clients skip bytewise to the next Z: so do we
            return True
        if len(buf) < wire.DATA_PREFIX:
            return False
        length, again, index = struct.unpack_from(">HHH", buf, 1)
        if buf[7] != ord("Z") or length != again:
            self._violation(
                "PNA-DATA-FRAMING",
                f"packet prefix {bytes(buf[:8]).hex()}: lengths {length} and {again}, "
                f"closing byte 0x{buf[7]:02x}",
            )
        if length < wire.MIN_PACKET_LENGTH:
            self._violation("PNA-DATA-LENGTH-MIN", f"a data packet of length {length}")
            self._take(wire.DATA_PREFIX)
            return True
        if len(buf) < length + 3:
            return False
        raw = self._take(length + 3)
        index2, timestamp = raw[8], struct.unpack_from(">I", raw, 9)[0]
        packet = DataPacket(index, index2, timestamp, raw[14], raw[15:], length)
        if index != self._next_index & 0xFFFF:
            self._violation(
                "PNA-DATA-INDEX", f"packet index {index} where {self._next_index} was due"
            )
        if timestamp < self._last_timestamp:
            self._violation(
                "PNA-DATA-TIMESTAMP", f"timestamp {timestamp} after {self._last_timestamp}"
            )
        self._next_index, self._last_timestamp = index + 1, timestamp
        self.packets += 1
        self._events.append(PacketReceived(packet))
        return True
