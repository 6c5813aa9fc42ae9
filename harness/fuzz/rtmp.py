"""RTMP as a fuzzing target: states, cases from messages and chunks, and the spec oracles.

States: `handshaken` (after C2), `connected` (connect answered), `publishing` (publish answered)
and `playing` (play answered). A case is chunk-stream bytes written with a fresh writer at the
default chunk size, so each starts with type 0 headers whatever the walk sent before it.
"""

from __future__ import annotations

import math
import os
import random
import secrets
import time
from typing import Any

from harness.catalogue import Catalogue
from harness.fuzz.driver import Verdict
from harness.fuzz.mutation import edit_bytes
from harness.fuzz.wire import Exchange, read_until
from reference_impl.common.events import Event, NeedData, ProtocolError, Violation
from reference_impl.rtmp import amf0, media
from reference_impl.rtmp.chunks import ChunkWriter, Message
from reference_impl.rtmp.client import RTMPURL
from reference_impl.rtmp.connection import Role, RTMPConnection
from reference_impl.rtmp.messages import (
    Command,
    MessageType,
    UserControlType,
    encode,
)

STATES = ("handshaken", "connected", "publishing", "playing")
WALK_TIMEOUT = 5.0
GLANCE = 0.15  # seconds to read what the server answers a case with
COMMANDS = [
    *["connect", "createStream", "publish", "play"] * 3,  # the flow's commands, most often
    "play2",
    "deleteStream",
    "closeStream",
    "releaseStream",
    "FCPublish",
    "FCUnpublish",
    "pause",
    "seek",
    "receiveAudio",
    "receiveVideo",
    "getStreamLength",
    "@setDataFrame",
    "_result",
    "",
    "x" * 300,
]
PROBE_TID = 9999.0
#: createStream on a chunk stream of its own, type 0 header: readable whatever came before
PROBE = ChunkWriter(128).write(encode(Command("createStream", PROBE_TID, None), csid=61))
NUMBERS = [0.0, 1.0, -1.0, 2.0**31, 2.0**32, -(2.0**63), 1e308, math.inf, -math.inf, math.nan]


def _nasty(rng: random.Random, depth: int = 0) -> Any:
    """An AMF0 value from the corners: huge, empty, nested, odd types."""
    pick = rng.randrange(10 if depth < 3 else 6)
    if pick == 0:
        return rng.choice(NUMBERS)
    if pick == 1:
        return rng.choice(["", "live", "\x00", "é" * 50, "a" * 70000, "../../etc", "%s%n"])
    if pick == 2:
        return rng.choice([None, amf0.UNDEFINED, True, False])
    if pick == 3:
        return amf0.Date(rng.choice(NUMBERS), 0)
    if pick in (4, 5):
        return rng.choice(NUMBERS[:3])
    if pick == 6:
        return {rng.choice(["app", "tcUrl", "", "code", "x"]): _nasty(rng, depth + 1) for _ in "ab"}
    if pick == 7:
        return amf0.EcmaArray({"k": _nasty(rng, depth + 1)})
    if pick == 8:
        return [_nasty(rng, depth + 1) for _ in range(rng.randrange(4))]
    return amf0.TypedObject("flex.messaging.Foo", {"a": _nasty(rng, depth + 1)})


def _encode_or_none(*values: Any) -> bytes | None:
    try:
        return amf0.encode_all(*values)
    except (amf0.AMF0Error, TypeError):
        return None


class RtmpFuzz:
    """Drives one connection to an RTMP server through a state, then one case."""

    protocol = "rtmp"
    states = STATES

    def __init__(self, url: str, catalogue: Catalogue, answer_timeout: float = 1.0) -> None:
        self.url = url
        self.where = RTMPURL.parse(url)
        self.catalogue = catalogue
        self.answer_timeout = answer_timeout
        self._conn: RTMPConnection | None = None
        self._stream_id = 1

    # -- walking ----------------------------------------------------------------------------

    def walk(self, ex: Exchange, state: str) -> bool:
        conn = RTMPConnection(Role.CLIENT, random=os.urandom(3072))
        self._conn = conn
        if not self._handshake(ex, conn):
            return False
        if state == "handshaken":
            return True
        connect = Command(
            "connect", 1.0, {"app": self.where.app, "tcUrl": self.where.tc_url, "flashVer": "x"}
        )
        if self._call(ex, conn, connect) is None:
            return False
        if state == "connected":
            return True
        answer = self._call(ex, conn, Command("createStream", 2.0, None))
        if answer is None or not answer.args or not isinstance(answer.args[0], float):
            return False
        self._stream_id = int(answer.args[0])
        name = f"fuzz-{secrets.token_hex(3)}"
        verb = "publish" if state == "publishing" else "play"
        args: tuple[Any, ...] = (name, "live") if verb == "publish" else (name,)
        ex.send(conn.send(Command(verb, 0.0, None, args, self._stream_id)))
        status = self._until(ex, conn, lambda e: isinstance(e, Command) and e.name == "onStatus")
        return status is not None

    def _handshake(self, ex: Exchange, conn: RTMPConnection) -> bool:
        if not ex.send(conn.initial_data()):
            return False
        deadline = time.monotonic() + WALK_TIMEOUT
        while conn.handshake is None:
            try:
                event = conn.next_event()
            except ProtocolError:
                return False
            if not isinstance(event, NeedData):
                continue
            out = conn.data_to_send()
            if out and not ex.send(out):
                return False
            if not ex.feed(conn, deadline):
                return False
        return ex.send(conn.data_to_send())

    def _call(self, ex: Exchange, conn: RTMPConnection, cmd: Command) -> Command | None:
        if not ex.send(conn.send(cmd)):
            return None
        found = self._until(
            ex,
            conn,
            lambda e: (
                isinstance(e, Command)
                and e.name in ("_result", "_error")
                and e.transaction_id == cmd.transaction_id
            ),
        )
        return found if isinstance(found, Command) and found.name == "_result" else None

    def _until(self, ex: Exchange, conn: RTMPConnection, want: Any) -> Event | None:
        return read_until(ex, conn, want, WALK_TIMEOUT)

    # -- cases ------------------------------------------------------------------------------

    def case(self, rng: random.Random, recorded: list[bytes]) -> bytes:
        if recorded and rng.random() < 0.4:
            return _mutate(rng.choice(recorded), rng)
        kind = rng.randrange(4)
        writer = ChunkWriter(128)
        if kind == 0:
            payload = None
            while payload is None:
                values = [rng.choice(COMMANDS), rng.choice(NUMBERS[:4])]
                values += [_nasty(rng) for _ in range(rng.randrange(0, 4))]
                payload = _encode_or_none(*values)
            stream = rng.choice([0, self._stream_id, 2**32 - 1])
            return writer.write(Message(3, 0, MessageType.COMMAND_AMF0, stream, payload))
        if kind == 1:
            type_id = rng.choice([1, 2, 3, 4, 5, 6])
            size = rng.choice([0, 2, 4, 5, 6, 10, 64])
            value = rng.choice([0, 1, 127, 128, 0x7FFFFFFF, 0xFFFFFFFF, rng.getrandbits(32)])
            payload = value.to_bytes(4, "big") + rng.randbytes(max(0, size - 4))
            if type_id == 4:
                kind_id = rng.choice([*UserControlType, 5, 31, 0xFFFF])
                payload = int(kind_id).to_bytes(2, "big") + payload
            return writer.write(Message(2, 0, type_id, 0, payload[:size] if size else b""))
        if kind == 2:
            type_id = rng.choice([8, 9, 18, 15, 16, 17, 19, 20, 22, 0, 255])
            stamp = rng.choice([0, 0xFFFFFF, 0x1000000, 2**32 - 1, rng.getrandbits(24)])
            body = rng.randbytes(rng.choice([0, 1, 2, 5, 200, 5000]))
            return writer.write(Message(rng.choice([4, 6, 8, 64, 320]), stamp, type_id, 1, body))
        return _raw_chunk(rng)

    def recorded_session(self) -> list[bytes]:
        w = ChunkWriter(128)
        name = "fuzz"
        events = [
            Command("connect", 1.0, {"app": self.where.app, "tcUrl": self.where.tc_url}),
            Command("createStream", 2.0, None),
            Command("publish", 0.0, None, (name, "live"), 1),
            Command("play", 0.0, None, (name, -2000.0), 1),
            Command("deleteStream", 0.0, None, (1.0,)),
        ]
        sent = [w.write(encode(e)) for e in events]
        sent += [w.write(encode(m)) for m in media.generate(media.Source(aac=True), 1, 4)]
        return sent

    # -- oracles ----------------------------------------------------------------------------

    def judge(self, ex: Exchange, payload: bytes) -> Verdict:
        conn = self._conn
        # The probe after the case: once it is answered, the server has dealt with the case,
        # so most cases take a round trip rather than the whole glance.
        if not ex.send(payload + PROBE):
            return Verdict(None)
        if conn is not None:
            conn.bytes_sent += len(payload) + len(PROBE)  # sent past the connection's writer
        deadline = time.monotonic() + GLANCE
        while conn is not None:
            try:
                event = conn.next_event()
            except ProtocolError as exc:
                return Verdict("unframable-response", str(exc), exc.requirement_id)
            if isinstance(event, Violation) and self._is_must(event.requirement_id):
                return Verdict("must-violation", event.detail, event.requirement_id)
            if isinstance(event, Command) and event.transaction_id == PROBE_TID:
                return Verdict(None)
            if isinstance(event, NeedData) and not ex.feed(conn, deadline):
                return Verdict(None)
        return Verdict(None)

    def healthy(self, host: str, port: int, timeout: float, ex: Exchange | None = None) -> bool:
        """A fresh connection still completes the handshake and connect."""

        def connects(fresh: Exchange) -> bool:
            conn = RTMPConnection(Role.CLIENT, random=os.urandom(3072))
            if not self._handshake(fresh, conn):
                return False
            connect = Command("connect", 1.0, {"app": self.where.app, "tcUrl": self.where.tc_url})
            return self._call(fresh, conn, connect) is not None

        return Exchange.probe(host, port, timeout, connects)

    def _is_must(self, requirement_id: str) -> bool:
        return requirement_id in self.catalogue and self.catalogue[requirement_id].level == "MUST"


def _raw_chunk(rng: random.Random) -> bytes:
    """A chunk header of any type and chunk stream ID form, with a length that may lie."""
    fmt = rng.randrange(4)
    form = rng.randrange(3)
    if form == 0:
        basic = bytes([fmt << 6 | rng.randrange(2, 64)])
    elif form == 1:
        basic = bytes([fmt << 6, rng.randrange(256)])
    else:
        basic = bytes([fmt << 6 | 1, rng.randrange(256), rng.randrange(256)])
    stamp = rng.choice([0, 0xFFFFFF, rng.getrandbits(24)]).to_bytes(3, "big")
    length = rng.choice([0, 1, 128, 0xFFFFFF, rng.getrandbits(24)]).to_bytes(3, "big")
    header = [
        stamp + length + bytes([rng.randrange(256)]) + rng.randbytes(4),
        stamp + length + bytes([rng.randrange(256)]),
        stamp,
        b"",
    ][fmt]
    ext = rng.randbytes(4) if stamp == b"\xff\xff\xff" else b""
    return basic + header + ext + rng.randbytes(rng.choice([0, 10, 128, 500]))


def _mutate(data: bytes, rng: random.Random) -> bytes:
    """Byte-level mutation of recorded chunks: flips, inserts, cuts, and lying lengths."""
    buf = bytearray(data)
    for _ in range(rng.randrange(1, 4)):
        choice = rng.randrange(3)
        if choice == 0:
            edit_bytes(buf, rng)
        elif choice == 1 and len(buf) > 7:
            buf[4:7] = rng.choice([b"\xff\xff\xff", b"\x00\x00\x00", b"\x00\x10\x00"])  # length
        elif choice == 2 and buf:
            buf[0] = (buf[0] & 0x3F) | (rng.randrange(4) << 6)  # another header type
    return bytes(buf)


DRIVER = RtmpFuzz
