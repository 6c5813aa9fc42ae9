"""A sans-IO RTMP connection for either role: bytes in, events out, `send(event) -> bytes`.

Like h11 and wsproto: the caller owns the socket and the clock. The connection runs the
handshake (RTMP 1.0 §5.2, plain or digest), then reads the chunk stream (§5.3), applies the
peer's Set Chunk Size and Abort, decodes messages (§5.4, §7), and emits `Violation` events next
to the decoded events for every catalogued deviation it sees. Acknowledgements are owed by
the caller: `ack_due()` says when the peer's window is full (§5.4.3).
"""

from __future__ import annotations

import enum
import struct
from collections import deque

from reference_impl.common.events import Event, NeedData, Violation
from reference_impl.rtmp import chunks, handshake, messages
from reference_impl.rtmp.chunks import ChunkReader, ChunkWriter, Message
from reference_impl.rtmp.handshake import ClientHandshake, HandshakeComplete, ServerHandshake
from reference_impl.rtmp.messages import (
    Abort,
    Acknowledgement,
    Media,
    SetChunkSize,
    WindowAckSize,
)

#: every requirement ID this module can report itself; tests check they are all catalogued
REQUIREMENT_IDS = frozenset({"RTMP-MEDIA-TIMESTAMP-ORDER", "RTMP-CTRL-ACK-SEQUENCE"})
ALL_REQUIREMENT_IDS = (
    REQUIREMENT_IDS | chunks.REQUIREMENT_IDS | handshake.REQUIREMENT_IDS | messages.REQUIREMENT_IDS
)

#: faults the connection itself carries out on what it sends (chunk-stream level)
WIRE_FAULTS = frozenset(
    {
        "exts_no_repeat",
        "msid_big_endian",
        "first_chunk_fmt1",
        "ignore_peer_chunk_size",
        "ignore_abort",
        "no_interleave",
    }
)
#: the handshake bytes, counted in acknowledgements by most peers but not by all
HANDSHAKE_BYTES = 1 + 2 * handshake.PACKET_SIZE


class Role(enum.Enum):
    CLIENT = "client"
    SERVER = "server"


class RTMPConnection:
    """One RTMP connection seen from `our_role`; the peer plays the other role."""

    def __init__(
        self,
        our_role: Role,
        *,
        random: bytes,
        digest: bool | None = None,
        scheme: int = 0,
        time_ms: int = 0,
        faults: frozenset[str] = frozenset(),
        max_message_size: int = 16 * 1024 * 1024,
    ) -> None:
        self.our_role = our_role
        self.faults = faults
        hs_faults = faults & handshake.FAULT_NAMES
        self._handshake: ServerHandshake | ClientHandshake
        if our_role is Role.SERVER:
            mode = "auto" if digest is None else ("on" if digest else "off")
            self._handshake = ServerHandshake(
                random=random, time_ms=time_ms, digest=mode, faults=hs_faults
            )
        else:
            self._handshake = ClientHandshake(
                random=random,
                time_ms=time_ms,
                digest=True if digest is None else digest,
                scheme=scheme,
                faults=hs_faults,
            )
        self.handshake: HandshakeComplete | None = None
        self.reader = ChunkReader(max_message_size=max_message_size)
        self.writer = ChunkWriter(repeat_extended_timestamp="exts_no_repeat" not in faults)
        self._pending: deque[Event] = deque()
        self._media_clock: dict[tuple[int, int], int] = {}
        self._fmt1_done: set[int] = set()
        #: the peer's window (its Window Acknowledgement Size): we owe an ack per window
        self.peer_window: int | None = None
        self._acked_at = 0
        self.bytes_sent = 0
        #: the message the last decoded event came from (for checks on csid and timestamps)
        self.last_message: Message | None = None

    # -- handshake --------------------------------------------------------------------------

    def initial_data(self) -> bytes:
        """C0 and C1, for a client to send first."""
        if not isinstance(self._handshake, ClientHandshake):
            raise RuntimeError("only a client starts the handshake")
        return self._count(self._handshake.initial_data())

    def data_to_send(self) -> bytes:
        """Handshake bytes owed to the peer (S0 S1 S2, or C2)."""
        return self._count(self._handshake.data_to_send())

    # -- receiving --------------------------------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        if self.handshake is None:
            self._handshake.receive_data(data)
        else:
            self.reader.receive_data(data)

    def next_event(self) -> Event:
        """The next event, `NeedData` when more bytes are needed; ProtocolError if unframable."""
        if self._pending:
            return self._pending.popleft()
        if self.handshake is None:
            event = self._handshake.next_event()
            if isinstance(event, HandshakeComplete):
                self.handshake = event
                self.reader.receive_data(event.leftover)
            return event
        item = self.reader.next_event()
        if not isinstance(item, Message):
            return item
        return self._on_message(item)

    def events(self) -> list[Event]:
        """Every event the bytes received so far make, up to the next NeedData."""
        found: list[Event] = []
        while True:
            event = self.next_event()
            if isinstance(event, NeedData):
                return found
            found.append(event)

    def _on_message(self, message: Message) -> Event:
        self.last_message = message
        if "no_interleave" in self.faults and self.reader.partial_streams():
            return self.next_event()  # the fault: a reader that cannot interleave loses it
        event = messages.decode(message)
        self._pending.extend(messages.check_message(message, event))
        if (
            isinstance(event, SetChunkSize)
            and 1 <= event.size <= 0x7FFFFFFF
            and "ignore_peer_chunk_size" not in self.faults
        ):
            # §5.4.1: the new size applies to the sender's next chunk, which is still unread.
            self.reader.set_chunk_size(event.size)
        elif isinstance(event, Abort) and "ignore_abort" not in self.faults:
            self.reader.abort(event.csid)
        elif isinstance(event, WindowAckSize):
            self.peer_window = event.size or None
        elif isinstance(event, Acknowledgement) and event.sequence > self.bytes_sent:
            self._pending.append(
                Violation(
                    "RTMP-CTRL-ACK-SEQUENCE",
                    f"acknowledged {event.sequence} bytes, but only {self.bytes_sent} were sent",
                )
            )
        elif isinstance(event, Media):
            self._check_media_clock(event)
        self._pending.append(event)
        return self._pending.popleft()

    def _check_media_clock(self, media: Media) -> None:
        key = (media.stream_id, media.type_id)
        last = self._media_clock.get(key)
        if last is not None and media.timestamp < last:
            kind = "audio" if media.type_id == messages.MessageType.AUDIO else "video"
            self._pending.append(
                Violation(
                    "RTMP-MEDIA-TIMESTAMP-ORDER",
                    f"{kind} timestamp went back from {last} to {media.timestamp} "
                    f"on stream {media.stream_id}",
                )
            )
        self._media_clock[key] = media.timestamp

    @property
    def bytes_received(self) -> int:
        """Bytes of the chunk stream received (after the handshake)."""
        return int(self.reader.bytes_received)

    def ack_due(self) -> Acknowledgement | None:
        """An Acknowledgement to send now, if a window's worth arrived since the last (§5.4.3)."""
        if self.peer_window is None:
            return None
        total = self.bytes_received + HANDSHAKE_BYTES
        if total - self._acked_at < self.peer_window:
            return None
        self._acked_at = total
        return Acknowledgement(total & 0xFFFFFFFF)

    # -- sending ----------------------------------------------------------------------------

    def send(self, event: Event, *, timestamp: int = 0, csid: int | None = None) -> bytes:
        """The chunk-stream bytes for one message event."""
        return self.send_message(messages.encode(event, timestamp=timestamp, csid=csid))

    def send_message(self, message: Message) -> bytes:
        if "msid_big_endian" in self.faults and message.stream_id:
            swapped = struct.unpack("<I", struct.pack(">I", message.stream_id))[0]
            message = Message(
                message.csid, message.timestamp, message.type_id, swapped, message.payload
            )
        if (
            "first_chunk_fmt1" in self.faults
            and message.csid != messages.CONTROL_CSID
            and message.csid not in self._fmt1_done
            and len(message.payload) <= self.writer.chunk_size
        ):
            self._fmt1_done.add(message.csid)
            data = _fmt1_chunk(message)
        else:
            data = self.writer.write(message)
        if message.type_id == messages.MessageType.SET_CHUNK_SIZE:
            size = struct.unpack(">I", message.payload)[0]
            if 1 <= size <= 0x7FFFFFFF:
                self.writer.set_chunk_size(size)
        return self._count(data)

    def _count(self, data: bytes) -> bytes:
        self.bytes_sent += len(data)
        return data


def _fmt1_chunk(message: Message) -> bytes:
    """A whole message as one type 1 chunk: no message stream ID, as if one came before."""
    header = chunks.basic_header(1, message.csid)
    body = struct.pack(">I", message.timestamp & 0xFFFFFF)[1:]
    body += struct.pack(">I", len(message.payload))[1:] + bytes([message.type_id])
    return header + body + message.payload
