"""The RTMP chunk stream, sans-IO: messages to chunks (`ChunkWriter`) and back (`ChunkReader`).

RTMP 1.0 (Adobe, Dec 2012) §5.3: a message (§5.1) travels as chunks of at most the chunk size,
each with a basic header (fmt and chunk stream ID, §5.3.1.1), a message header of type 0, 1, 2
or 3 (§5.3.1.2) and, for timestamps from 0xFFFFFF on, an extended timestamp (§5.3.1.3).
Set Chunk Size (§5.4.1) and Abort (§5.4.2) are decoded elsewhere; the caller applies them with
`set_chunk_size` and `abort`. No sockets or clocks: bytes in, `Message` events out.

The reader reports three catalogued deviations as `Violation` events and reads on; input it
cannot frame at all raises `ProtocolError` from `next_event`.
"""

from __future__ import annotations

import struct
from collections import deque
from dataclasses import dataclass

from reference_impl.common.events import Event, NeedData, ProtocolError, Violation

REQUIREMENT_IDS = frozenset(
    {
        "RTMP-CHUNK-FIRST-FMT0",
        "RTMP-CHUNK-EXTTS-REPEAT",
        "RTMP-CHUNK-LENGTH-CHANGE",
    }
)

DEFAULT_CHUNK_SIZE = 128
#: §5.4.1: the top bit of Set Chunk Size is zero, and a size of 0 frames nothing
MAX_CHUNK_SIZE = 0x7FFFFFFF
MIN_CSID = 2
MAX_CSID = 65599
#: a 24-bit timestamp field holding this says the real value follows in 32 bits (§5.3.1.3)
EXTENDED = 0xFFFFFF
MAX_LENGTH = 0xFFFFFF
#: message header sizes by fmt (§5.3.1.2.1 to §5.3.1.2.4)
HEADER_SIZES = (11, 7, 3, 0)
#: compact the receive buffer once this much of its front has been parsed
_COMPACT_AT = 1 << 16


@dataclass(frozen=True)
class Message(Event):
    """One whole RTMP message (§5.1) and the chunk stream it came or goes on."""

    csid: int
    timestamp: int
    type_id: int
    stream_id: int
    payload: bytes


def valid_chunk_size(size: int) -> int:
    """`size` if a chunk size may be it (1 to 0x7FFFFFFF), else ValueError."""
    if not 1 <= size <= MAX_CHUNK_SIZE:
        raise ValueError(f"chunk size {size} is not in 1..{MAX_CHUNK_SIZE:#x}")
    return size


def basic_header(fmt: int, csid: int) -> bytes:
    """The basic header in its shortest form: 1 byte for csid 2..63, 2 up to 319, else 3."""
    if not MIN_CSID <= csid <= MAX_CSID:
        raise ValueError(f"chunk stream ID {csid} is not in {MIN_CSID}..{MAX_CSID}")
    if csid < 64:
        return bytes([fmt << 6 | csid])
    if csid < 320:
        return bytes([fmt << 6, csid - 64])
    return bytes([fmt << 6 | 1]) + (csid - 64).to_bytes(2, "little")


# -- writing --------------------------------------------------------------------------------


@dataclass
class _Sent:
    """The header of the last message written on one chunk stream."""

    timestamp: int
    length: int
    type_id: int
    stream_id: int
    #: None after a type 0 header: readers disagree on what a type 3 header then adds
    #: (the spec says the type 0 timestamp, nginx-rtmp says nothing), so we never rely on it
    delta: int | None


class ChunkWriter:
    """Chunks outgoing messages, each header as small as the previous one on its csid allows."""

    def __init__(
        self,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        *,
        repeat_extended_timestamp: bool = True,
        compress: bool = True,
    ) -> None:
        self.chunk_size = valid_chunk_size(chunk_size)
        self.repeat_extended_timestamp = repeat_extended_timestamp
        self.compress = compress
        self._sent: dict[int, _Sent] = {}

    def set_chunk_size(self, size: int) -> None:
        """Chunk the following messages at `size` (after sending Set Chunk Size, §5.4.1)."""
        self.chunk_size = valid_chunk_size(size)

    def write(self, message: Message) -> bytes:
        """The chunks of one message: a header of the smallest fitting type, then type 3 ones."""
        _check_writable(message)
        fmt, field, delta = self._choose(message)
        self._sent[message.csid] = _Sent(
            message.timestamp,
            len(message.payload),
            message.type_id,
            message.stream_id,
            delta,
        )
        extended = struct.pack(">I", field) if field >= EXTENDED else b""
        # A type 3 chunk repeats the extended timestamp by the current rule; old librtmp did not.
        repeated = extended if self.repeat_extended_timestamp else b""
        first = basic_header(fmt, message.csid) + _message_header(fmt, field, message)
        first += repeated if fmt == 3 else extended
        size, payload = self.chunk_size, message.payload
        parts = [first, payload[:size]]
        continuation = basic_header(3, message.csid) + repeated
        for start in range(size, len(payload), size):
            parts += [continuation, payload[start : start + size]]
        return b"".join(parts)

    def _choose(self, message: Message) -> tuple[int, int, int | None]:
        """fmt, the timestamp field it carries, and the delta a later type 3 header may reuse."""
        prev = self._sent.get(message.csid)
        stamp = message.timestamp & 0xFFFFFFFF  # 32 bits on the wire: it wraps (§5.3.1.2.1)
        if prev is None or not self.compress or message.stream_id != prev.stream_id:
            return 0, stamp, None
        delta = message.timestamp - prev.timestamp
        if not 0 <= delta <= 0xFFFFFFFF:
            return 0, stamp, None  # went backwards, or too far forwards for a delta
        if (len(message.payload), message.type_id) != (prev.length, prev.type_id):
            return 1, delta, delta
        if delta != prev.delta:
            return 2, delta, delta
        return 3, delta, delta


def _check_writable(message: Message) -> None:
    if not 0 <= message.type_id <= 0xFF:
        raise ValueError(f"message type {message.type_id} does not fit a byte")
    if not 0 <= message.stream_id <= 0xFFFFFFFF:
        raise ValueError(f"message stream ID {message.stream_id} does not fit 32 bits")
    if len(message.payload) > MAX_LENGTH:
        raise ValueError(f"a {len(message.payload)}-byte message does not fit 24 bits")
    if message.timestamp < 0:
        raise ValueError(f"timestamp {message.timestamp} is negative")


def _message_header(fmt: int, field: int, message: Message) -> bytes:
    if fmt == 3:
        return b""
    header = min(field, EXTENDED).to_bytes(3, "big")
    if fmt <= 1:
        header += len(message.payload).to_bytes(3, "big") + bytes([message.type_id])
    if fmt == 0:
        # The one little-endian field of RTMP (§5.3.1.2.1).
        header += message.stream_id.to_bytes(4, "little")
    return header


# -- reading --------------------------------------------------------------------------------


@dataclass
class _ChunkStream:
    """What the reader keeps of one chunk stream: its last header and any partial message."""

    timestamp: int = 0
    #: what a type 3 header starting a new message adds (§5.3.1.2.4: after type 0, its timestamp)
    delta: int = 0
    length: int = 0
    type_id: int = 0
    stream_id: int = 0
    #: the extended timestamp of the last type 0/1/2 header, which type 3 chunks repeat
    extended: int | None = None
    partial: bytearray | None = None


@dataclass
class _Chunk:
    """One chunk's parsed header, before the reader commits to it."""

    fmt: int
    csid: int
    field: int = 0
    length: int = 0
    type_id: int = 0
    stream_id: int = 0
    #: the timestamp field was 0xFFFFFF and the 32-bit value followed
    has_extended: bool = False
    #: a type 3 chunk lacked the extended timestamp its message called for
    missing_repeat: bool = False
    #: where the chunk data starts in the buffer
    data_at: int = 0


class ChunkReader:
    """Reassembles messages from received chunks, one complete message per `next_event`."""

    def __init__(
        self,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        *,
        max_message_size: int = 16 * 1024 * 1024,
        max_streams: int = 1024,
    ) -> None:
        self.chunk_size = valid_chunk_size(chunk_size)
        self.max_message_size = max_message_size
        self.max_streams = max_streams
        #: every byte fed in, for Acknowledgement sequence numbers (§5.4.3)
        self.bytes_received = 0
        self._buffer = bytearray()
        self._pos = 0
        self._streams: dict[int, _ChunkStream] = {}
        self._events: deque[Message | Violation] = deque()
        self._repeat_reported = False

    def receive_data(self, data: bytes) -> None:
        self._buffer += data
        self.bytes_received += len(data)

    @property
    def buffered(self) -> int:
        """Bytes received but not yet read as chunks."""
        return len(self._buffer) - self._pos

    def set_chunk_size(self, size: int) -> None:
        """The peer's chunks from the next unread one on are `size` bytes (§5.4.1)."""
        self.chunk_size = valid_chunk_size(size)

    def abort(self, csid: int) -> None:
        """Drop the partial message on `csid` (Abort Message, §5.4.2); its header stays."""
        stream = self._streams.get(csid)
        if stream is not None:
            stream.partial = None

    def partial_streams(self) -> list[int]:
        """Chunk streams with a message begun and not yet complete."""
        return [csid for csid, stream in self._streams.items() if stream.partial is not None]

    def next_event(self) -> Message | Violation | NeedData:
        """The next Violation or whole Message, or NeedData; ProtocolError if unframable."""
        # One chunk at a time, stopping at the first whole message, so that a Set Chunk Size
        # it carries can be applied before the chunk after it is read.
        while not self._events:
            if not self._read_chunk():
                return NeedData()
        return self._events.popleft()

    # -- one chunk --------------------------------------------------------------------------

    def _read_chunk(self) -> bool:
        """Consume one whole chunk if it has arrived; False if it has not."""
        chunk = self._parse_headers()
        if chunk is None:
            return False
        stream = self._streams.get(chunk.csid)
        length = chunk.length if chunk.fmt <= 1 else stream.length if stream else 0
        received = len(stream.partial) if stream and stream.partial and chunk.fmt == 3 else 0
        size = min(self.chunk_size, length - received)
        end = chunk.data_at + size
        if end > len(self._buffer):
            return False
        self._commit(chunk, bytes(self._buffer[chunk.data_at : end]))
        self._consume(end)
        return True

    def _parse_headers(self) -> _Chunk | None:
        """The basic, message and extended headers at the front of the buffer, if all arrived."""
        chunk = self._parse_basic_header()
        if chunk is None:
            return None
        buf, at = self._buffer, chunk.data_at
        if len(buf) - at < HEADER_SIZES[chunk.fmt]:
            return None
        if chunk.fmt <= 2:
            chunk.field = int.from_bytes(buf[at : at + 3], "big")
        if chunk.fmt <= 1:
            chunk.length = int.from_bytes(buf[at + 3 : at + 6], "big")
            chunk.type_id = buf[at + 6]
            if chunk.length > self.max_message_size:
                raise ProtocolError(
                    f"a {chunk.length}-byte message on chunk stream {chunk.csid} is larger "
                    f"than the {self.max_message_size} bytes allowed"
                )
        if chunk.fmt == 0:
            chunk.stream_id = int.from_bytes(buf[at + 7 : at + 11], "little")
        chunk.data_at = at + HEADER_SIZES[chunk.fmt]
        if chunk.csid not in self._streams and len(self._streams) >= self.max_streams:
            raise ProtocolError(f"more than {self.max_streams} chunk streams in use")
        return self._parse_extended(chunk)

    def _parse_basic_header(self) -> _Chunk | None:
        buf, at = self._buffer, self._pos
        if at >= len(buf):
            return None
        fmt, low = buf[at] >> 6, buf[at] & 0x3F
        # §5.3.1.1: 0 and 1 in the low six bits announce a 2- and a 3-byte form.
        extra = {0: 1, 1: 2}.get(low, 0)
        if len(buf) - at < 1 + extra:
            return None
        if extra == 0:
            return _Chunk(fmt, low, data_at=at + 1)
        csid = 64 + int.from_bytes(buf[at + 1 : at + 1 + extra], "little")
        return _Chunk(fmt, csid, data_at=at + 1 + extra)

    def _parse_extended(self, chunk: _Chunk) -> _Chunk | None:
        buf, at = self._buffer, chunk.data_at
        if chunk.fmt <= 2:
            if chunk.field != EXTENDED:
                return chunk
            if len(buf) - at < 4:
                return None
            chunk.field = int.from_bytes(buf[at : at + 4], "big")
            chunk.has_extended = True
            chunk.data_at = at + 4
            return chunk
        stream = self._streams.get(chunk.csid)
        if stream is None or stream.extended is None:
            return chunk
        # Like ffmpeg: the four bytes where the repeat belongs are the repeat only if they
        # equal it; otherwise the sender is old librtmp and they are already chunk data.
        expected = stream.extended.to_bytes(4, "big")
        found = bytes(buf[at : at + 4])
        if found != expected[: len(found)]:
            chunk.missing_repeat = True
        elif len(found) < 4:
            return None  # so far they match: wait for all four
        else:
            chunk.data_at = at + 4
        return chunk

    def _commit(self, chunk: _Chunk, data: bytes) -> None:
        """Apply a whole chunk to its chunk stream; queue its Violations and any Message."""
        stream = self._streams.get(chunk.csid)
        if stream is None:
            stream = self._streams[chunk.csid] = _ChunkStream()
            if chunk.fmt != 0:
                self._violation(
                    "RTMP-CHUNK-FIRST-FMT0",
                    f"chunk stream {chunk.csid} starts with a type {chunk.fmt} header, "
                    "not type 0; its missing fields are taken as zero",
                )
        if chunk.missing_repeat and not self._repeat_reported:
            self._repeat_reported = True
            self._violation(
                "RTMP-CHUNK-EXTTS-REPEAT",
                f"a type 3 chunk on chunk stream {chunk.csid} does not repeat the extended "
                f"timestamp {stream.extended:#x}",
            )
        if chunk.fmt <= 2:
            self._start_message(stream, chunk)
        elif stream.partial is None:
            # A type 3 header may start a message too: all as before, one more delta on.
            stream.timestamp += stream.delta
            stream.partial = bytearray()
        assert stream.partial is not None
        stream.partial += data
        if len(stream.partial) >= stream.length:
            payload, stream.partial = bytes(stream.partial), None
            self._events.append(
                Message(chunk.csid, stream.timestamp, stream.type_id, stream.stream_id, payload)
            )

    def _start_message(self, stream: _ChunkStream, chunk: _Chunk) -> None:
        if stream.partial is not None:
            self._violation(
                "RTMP-CHUNK-LENGTH-CHANGE",
                f"a type {chunk.fmt} header on chunk stream {chunk.csid} starts a new message "
                f"after {len(stream.partial)} of {stream.length} bytes; the partial is dropped",
            )
        if chunk.fmt == 0:
            stream.timestamp = chunk.field
            stream.stream_id = chunk.stream_id
        else:
            stream.timestamp += chunk.field
        if chunk.fmt <= 1:
            stream.length, stream.type_id = chunk.length, chunk.type_id
        stream.delta = chunk.field
        stream.extended = chunk.field if chunk.has_extended else None
        stream.partial = bytearray()

    def _violation(self, requirement_id: str, detail: str) -> None:
        self._events.append(Violation(requirement_id, detail))

    def _consume(self, end: int) -> None:
        self._pos = end
        # Compacting only now and then keeps small chunks from copying the buffer each time.
        if self._pos == len(self._buffer) or self._pos >= _COMPACT_AT:
            del self._buffer[: self._pos]
            self._pos = 0
