"""RTMP messages above the chunk stream: protocol control, user control, commands, data, media.

RTMP 1.0 (Adobe, Dec 2012) §5.4 (protocol control), §6.2 and §7.1.7 (user control), §7.1.1 and
§7.2 (commands, AMF0 encoded). Each message type decodes to a dataclass event and encodes back
to a chunk-stream `Message`. Deviations become `Violation`s from `check_message`; only bytes that
cannot be decoded at all give an `Unreadable` event, never an exception.
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass, field
from typing import Any

from reference_impl.common.events import Event, Violation
from reference_impl.rtmp import amf0
from reference_impl.rtmp.chunks import Message

#: chunk stream IDs the reference uses (§5.3.1.1: 2 is for protocol control)
CONTROL_CSID, COMMAND_CSID, AUDIO_CSID, VIDEO_CSID, DATA_CSID = 2, 3, 4, 6, 5


class MessageType(enum.IntEnum):
    SET_CHUNK_SIZE = 1
    ABORT = 2
    ACKNOWLEDGEMENT = 3
    USER_CONTROL = 4
    WINDOW_ACK_SIZE = 5
    SET_PEER_BANDWIDTH = 6
    AUDIO = 8
    VIDEO = 9
    DATA_AMF3 = 15
    SHARED_OBJECT_AMF3 = 16
    COMMAND_AMF3 = 17
    DATA_AMF0 = 18
    SHARED_OBJECT_AMF0 = 19
    COMMAND_AMF0 = 20
    AGGREGATE = 22


class UserControlType(enum.IntEnum):
    STREAM_BEGIN = 0
    STREAM_EOF = 1
    STREAM_DRY = 2
    SET_BUFFER_LENGTH = 3
    STREAM_IS_RECORDED = 4
    PING_REQUEST = 6
    PING_RESPONSE = 7


# §5.4: protocol control messages and their fixed payload sizes.
CONTROL_SIZES = {
    MessageType.SET_CHUNK_SIZE: 4,
    MessageType.ABORT: 4,
    MessageType.ACKNOWLEDGEMENT: 4,
    MessageType.WINDOW_ACK_SIZE: 4,
    MessageType.SET_PEER_BANDWIDTH: 5,
}
# §7.1.7: the event data after the 2-byte event type.
USER_CONTROL_SIZES = {UserControlType.SET_BUFFER_LENGTH: 8}
USER_CONTROL_DEFAULT_SIZE = 4
MAX_CHUNK_SIZE = 0xFFFFFF


@dataclass(frozen=True)
class SetChunkSize(Event):
    """The sender's chunks are `size` bytes from now on."""

    size: int


@dataclass(frozen=True)
class Abort(Event):
    """Discard the partial message on chunk stream `csid`."""

    csid: int


@dataclass(frozen=True)
class Acknowledgement(Event):
    """The peer has received `sequence` bytes so far."""

    sequence: int


@dataclass(frozen=True)
class WindowAckSize(Event):
    """Acknowledge every `size` bytes received."""

    size: int


@dataclass(frozen=True)
class SetPeerBandwidth(Event):
    """Limit the peer's output: window `size`, limit type 0 hard, 1 soft, 2 dynamic."""

    size: int
    limit_type: int


@dataclass(frozen=True)
class UserControl(Event):
    """A user control event: `value` is the stream ID or the ping timestamp."""

    kind: int
    value: int
    buffer_length: int = 0


@dataclass(frozen=True)
class Command(Event):
    """A command: name, transaction ID, command object, arguments, on message stream `stream_id`."""

    name: str
    transaction_id: float
    command_object: Any = None
    args: tuple[Any, ...] = ()
    stream_id: int = 0
    amf3: bool = False

    def info(self) -> dict[str, Any]:
        """The information object of an onStatus, _result or _error (empty when none)."""
        for arg in reversed(self.args):
            if isinstance(arg, dict):
                return arg
        return {}


@dataclass(frozen=True)
class DataMessage(Event):
    """A data message (metadata): AMF values on message stream `stream_id`."""

    values: tuple[Any, ...]
    stream_id: int = 0
    timestamp: int = 0


@dataclass(frozen=True)
class Media(Event):
    """An audio (type 8) or video (type 9) message: an FLV tag body."""

    type_id: int
    timestamp: int
    payload: bytes
    stream_id: int


@dataclass(frozen=True)
class OtherMessage(Event):
    """A message of a type the reference does not act on (shared objects, aggregates, unknown)."""

    message: Message = field(repr=False)


@dataclass(frozen=True)
class Unreadable(Event):
    """A message whose payload could not be decoded; `why` says what was wrong."""

    message: Message = field(repr=False)
    why: str


def decode(message: Message) -> Event:
    """The event a chunk-stream message carries (never raises)."""
    t, p = message.type_id, message.payload
    try:
        if t in CONTROL_SIZES:
            return _decode_control(MessageType(t), p)
        if t == MessageType.USER_CONTROL:
            kind = struct.unpack_from(">H", p)[0]
            value = struct.unpack_from(">I", p, 2)[0]
            buffer_length = struct.unpack_from(">I", p, 6)[0] if len(p) >= 10 else 0
            return UserControl(kind, value, buffer_length)
    except struct.error:
        return Unreadable(message, f"message type {t} with only {len(p)} bytes")
    if t in (MessageType.AUDIO, MessageType.VIDEO):
        return Media(t, message.timestamp, p, message.stream_id)
    if t in (MessageType.COMMAND_AMF0, MessageType.COMMAND_AMF3):
        return _decode_command(message)
    if t in (MessageType.DATA_AMF0, MessageType.DATA_AMF3):
        body = p[1:] if t == MessageType.DATA_AMF3 and p[:1] == b"\x00" else p
        try:
            values = amf0.decode_all(body)
        except amf0.AMF0Error as exc:
            return Unreadable(message, f"data message: {exc}")
        return DataMessage(tuple(values), message.stream_id, message.timestamp)
    return OtherMessage(message)


def _decode_control(kind: MessageType, payload: bytes) -> Event:
    value = struct.unpack_from(">I", payload)[0]
    if kind == MessageType.SET_CHUNK_SIZE:
        return SetChunkSize(value)
    if kind == MessageType.ABORT:
        return Abort(value)
    if kind == MessageType.ACKNOWLEDGEMENT:
        return Acknowledgement(value)
    if kind == MessageType.WINDOW_ACK_SIZE:
        return WindowAckSize(value)
    return SetPeerBandwidth(value, payload[4])


def _decode_command(message: Message) -> Event:
    amf3 = message.type_id == MessageType.COMMAND_AMF3
    # §7.1.1: an AMF3 command starts with a format byte; commands themselves stay AMF0-encoded
    # unless they switch to AMF3 with the avmplus marker.
    body = message.payload[1:] if amf3 else message.payload
    try:
        values = amf0.decode_all(body)
    except amf0.AMF0Error as exc:
        return Unreadable(message, f"command: {exc}")
    if len(values) < 2 or not isinstance(values[0], str) or not _is_number(values[1]):
        return Unreadable(
            message, f"command does not start with a name and a number: {values[:2]!r}"
        )
    rest = values[2:]
    return Command(
        values[0],
        float(values[1]),
        rest[0] if rest else None,
        tuple(rest[1:]),
        message.stream_id,
        amf3,
    )


def _is_number(value: Any) -> bool:
    return isinstance(value, float | int) and not isinstance(value, bool)


# -- encoding -------------------------------------------------------------------------------


def encode(event: Event, *, timestamp: int = 0, csid: int | None = None) -> Message:
    """The chunk-stream message for an event (commands and media keep their stream ID)."""
    if isinstance(event, SetChunkSize | Abort | Acknowledgement | WindowAckSize):
        kind = _CONTROL_TYPE[type(event)]
        value = next(iter(event.__dict__.values()))
        return Message(csid or CONTROL_CSID, timestamp, kind, 0, struct.pack(">I", value))
    if isinstance(event, SetPeerBandwidth):
        payload = struct.pack(">IB", event.size, event.limit_type)
        return Message(csid or CONTROL_CSID, timestamp, MessageType.SET_PEER_BANDWIDTH, 0, payload)
    if isinstance(event, UserControl):
        payload = struct.pack(">HI", event.kind, event.value)
        if event.kind == UserControlType.SET_BUFFER_LENGTH:
            payload += struct.pack(">I", event.buffer_length)
        return Message(csid or CONTROL_CSID, timestamp, MessageType.USER_CONTROL, 0, payload)
    if isinstance(event, Command):
        values = [event.name, event.transaction_id, event.command_object, *event.args]
        payload = amf0.encode_all(*values)
        kind = MessageType.COMMAND_AMF0
        if event.amf3:
            payload, kind = b"\x00" + payload, MessageType.COMMAND_AMF3
        return Message(csid or COMMAND_CSID, timestamp, kind, event.stream_id, payload)
    if isinstance(event, DataMessage):
        payload = amf0.encode_all(*event.values)
        return Message(
            csid or DATA_CSID, event.timestamp, MessageType.DATA_AMF0, event.stream_id, payload
        )
    if isinstance(event, Media):
        default = AUDIO_CSID if event.type_id == MessageType.AUDIO else VIDEO_CSID
        return Message(
            csid or default, event.timestamp, event.type_id, event.stream_id, event.payload
        )
    if isinstance(event, OtherMessage):
        return event.message
    raise TypeError(f"cannot encode {type(event).__name__} as an RTMP message")


_CONTROL_TYPE: dict[type, int] = {
    SetChunkSize: MessageType.SET_CHUNK_SIZE,
    Abort: MessageType.ABORT,
    Acknowledgement: MessageType.ACKNOWLEDGEMENT,
    WindowAckSize: MessageType.WINDOW_ACK_SIZE,
}


def status(code: str, description: str = "", level: str = "status", **extra: Any) -> dict[str, Any]:
    """An onStatus / _result information object (§7.2.2)."""
    return {"level": level, "code": code, "description": description or code, **extra}


# -- checks ---------------------------------------------------------------------------------

#: every requirement ID `check_message` can report
REQUIREMENT_IDS = frozenset(
    {
        "RTMP-CTRL-CHANNEL",
        "RTMP-CTRL-LENGTH",
        "RTMP-CHUNK-SIZE-RANGE",
        "RTMP-CTRL-PEER-BW-LIMIT",
        "RTMP-UC-CHANNEL",
        "RTMP-UC-EVENT-LENGTH",
        "RTMP-AMF0-VALID",
        "RTMP-AMF0-COMMAND-SHAPE",
        "RTMP-CHUNK-CSID-RESERVED",
    }
)


def check_message(message: Message, event: Event) -> list[Violation]:
    """The catalogued deviations one received message shows on its own."""
    found: list[Violation] = []
    t, size = message.type_id, len(message.payload)
    if t in CONTROL_SIZES:
        # §5.4: protocol control messages MUST use message stream 0 and chunk stream 2.
        if message.csid != CONTROL_CSID or message.stream_id != 0:
            found.append(
                Violation(
                    "RTMP-CTRL-CHANNEL",
                    f"{MessageType(t).name} on chunk stream {message.csid}, "
                    f"message stream {message.stream_id} (must be 2 and 0)",
                )
            )
        if size != CONTROL_SIZES[MessageType(t)]:
            found.append(
                Violation(
                    "RTMP-CTRL-LENGTH",
                    f"{MessageType(t).name} has {size} bytes, not {CONTROL_SIZES[MessageType(t)]}",
                )
            )
    if isinstance(event, SetChunkSize) and not 1 <= event.size <= MAX_CHUNK_SIZE:
        found.append(
            Violation("RTMP-CHUNK-SIZE-RANGE", f"Set Chunk Size {event.size:#x} is out of range")
        )
    if isinstance(event, SetPeerBandwidth) and event.limit_type > 2:
        found.append(
            Violation("RTMP-CTRL-PEER-BW-LIMIT", f"limit type {event.limit_type} is not 0, 1 or 2")
        )
    if t == MessageType.USER_CONTROL:
        found.extend(_check_user_control(message))
    if isinstance(event, Unreadable) and t in _AMF_TYPES:
        rid = "RTMP-AMF0-COMMAND-SHAPE" if "name and a number" in event.why else "RTMP-AMF0-VALID"
        found.append(Violation(rid, event.why))
    if t in _AMF_TYPES | {MessageType.AUDIO, MessageType.VIDEO} and message.csid == CONTROL_CSID:
        found.append(
            Violation(
                "RTMP-CHUNK-CSID-RESERVED",
                f"message type {t} on chunk stream 2, which is for protocol control",
            )
        )
    return found


_AMF_TYPES = {MessageType.COMMAND_AMF0, MessageType.COMMAND_AMF3, MessageType.DATA_AMF0}


def _check_user_control(message: Message) -> list[Violation]:
    found: list[Violation] = []
    if message.csid != CONTROL_CSID or message.stream_id != 0:
        found.append(
            Violation(
                "RTMP-UC-CHANNEL",
                f"user control on chunk stream {message.csid}, message stream {message.stream_id}",
            )
        )
    payload = message.payload
    if len(payload) >= 2:
        kind = struct.unpack_from(">H", payload)[0]
        want = USER_CONTROL_SIZES.get(kind, USER_CONTROL_DEFAULT_SIZE)
        if len(payload) - 2 != want:
            found.append(
                Violation(
                    "RTMP-UC-EVENT-LENGTH",
                    f"user control event {kind} has {len(payload) - 2} data bytes, not {want}",
                )
            )
    else:
        found.append(Violation("RTMP-UC-EVENT-LENGTH", f"user control of {len(payload)} bytes"))
    return found
