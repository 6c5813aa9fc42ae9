"""The RTMP reference server: asyncio around the sans-IO connection, live publish and play.

Any app name is accepted; a stream name is published by one client and played by many
(RTMP 1.0 §7.2.1, §7.2.2). Named faults switch on one deviation each (faults.py).
"""

from __future__ import annotations

import asyncio
import os
import struct
from collections.abc import Iterable
from typing import Any

from reference_impl.common import observe
from reference_impl.common.events import Event, NeedData, ProtocolError, Violation
from reference_impl.common.faults import FaultSet
from reference_impl.common.tcp_server import TcpReferenceServer
from reference_impl.rtmp import amf0, handshake
from reference_impl.rtmp.chunks import ChunkWriter, Message
from reference_impl.rtmp.connection import WIRE_FAULTS, Role, RTMPConnection
from reference_impl.rtmp.faults import FAULTS
from reference_impl.rtmp.live import LiveHub
from reference_impl.rtmp.media import Source, generate
from reference_impl.rtmp.messages import (
    COMMAND_CSID,
    Command,
    DataMessage,
    Media,
    MessageType,
    OtherMessage,
    SetChunkSize,
    SetPeerBandwidth,
    UserControl,
    UserControlType,
    WindowAckSize,
    encode,
    status,
)

WINDOW = 2_500_000
PING_VALUE = 0x5C0FFEE
#: a generated stream stops after this many messages (about 40 s), however long it is played
SOURCE_MESSAGES = 3000
SOURCE_BURST = 1.0  # seconds of a generated stream sent at once, as a GOP cache would
#: how long a client may stay silent after C2 before we take it to wait for S2
QUIET_AFTER_C2 = 0.3
#: how long we wait for C2 before sending S2 anyway (ffmpeg waits for S2 before its C2)
C2_DEADLINE = 1.0
CHUNK_SIZE = 4096
READ_SIZE = 65536
#: a player whose socket holds more than this unsent is too slow for a live stream: dropped
MAX_PLAYER_BACKLOG = 8 * 1024 * 1024


class ReferenceServer(TcpReferenceServer["ReferenceServer"]):
    """RTMP on one loopback port; `faults` switch on deviations."""

    def __init__(
        self,
        faults: Iterable[str] = (),
        *,
        source: bool = False,
        window: int = WINDOW,
        ping: bool = False,
        hold_s2: bool = False,
        digest: bool | None = None,
    ) -> None:
        super().__init__()
        self.faults = FaultSet(FAULTS, faults)
        self.hub = LiveHub()
        #: play of a name nobody publishes gets a generated stream (for observing clients)
        self.source = source
        #: the Window Acknowledgement Size the server asks clients for
        self.window = window
        #: send a PingRequest once a client plays
        self.ping = ping
        #: hold S2 back until C2 came and a quiet spell passed (RTMP-HS-WAIT-S2)
        self.hold_s2 = hold_s2
        #: None: answer a digest C1 with the digest handshake; True/False: always/never
        self.digest = digest
        #: every command received, in order, for suites that observe a client
        self.commands: list[Command] = []
        #: every other event received from clients (acks, pings, data, media), in order
        self.events: list[Event] = []
        #: violations the server saw in what clients sent
        self.violations: list[Violation] = []
        self.connections = 0
        #: bytes written to clients, all connections together
        self.bytes_sent = 0

    def url(self, host: str, port: int) -> str:
        return f"rtmp://{host}:{port}/live/stream"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        local, remote = writer.get_extra_info("sockname"), writer.get_extra_info("peername")
        wire = observe.recorder("rtmp", "tcp", local[:2], remote[:2], "server")
        session = ServerSession(self, writer, wire)
        try:
            await session.run(reader)
        except (ConnectionError, ProtocolError, TimeoutError):
            pass
        except asyncio.CancelledError:
            pass  # the server is closing: end quietly
        finally:
            session.end()
            wire.closed(by_peer=False)
            writer.close()
            self._notify()


class ServerSession:
    """One client connection: handshake, commands, and its part in publishing or playing."""

    def __init__(
        self, server: ReferenceServer, writer: asyncio.StreamWriter, wire: observe.WireRecorder
    ) -> None:
        self.server = server
        self.faults = server.faults
        self.writer = writer
        self.wire = wire
        self.conn: RTMPConnection | None = None
        self.next_stream_id = 1
        #: message stream ID -> name it publishes, and -> name it plays
        self.publishing: dict[int, str] = {}
        self.playing: dict[int, str] = {}
        self.object_encoding = 0.0
        #: tasks feeding generated streams to this session (ended with it)
        self.feeds: list[asyncio.Task[None]] = []
        self._media_sent = 0

    # -- the loop ---------------------------------------------------------------------------

    async def run(self, reader: asyncio.StreamReader) -> None:
        pending = b""
        while self.conn is None:
            data = await reader.read(READ_SIZE)
            if not data:
                return
            self.wire.received(data)
            pending += data
            if len(pending) >= 1 + handshake.PACKET_SIZE:
                self.conn = self._new_connection(pending[1 : 1 + handshake.PACKET_SIZE])
                self.conn.receive_data(pending)
        if self.server.hold_s2:
            await self._handshake_holding_s2(reader)
        while True:
            self._drain()
            data = await reader.read(READ_SIZE)
            if not data:
                return
            self.wire.received(data)
            self.conn.receive_data(data)

    async def _handshake_holding_s2(self, reader: asyncio.StreamReader) -> None:
        """S0 and S1 now, S2 only once C2 came and the client then kept quiet (§5.2.1)."""
        assert self.conn is not None
        conn = self.conn
        out = conn.data_to_send()
        self._write(out[: 1 + handshake.PACKET_SIZE])
        s2 = out[1 + handshake.PACKET_SIZE :]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + C2_DEADLINE
        while conn.handshake is None:
            event = conn.next_event()
            if not isinstance(event, NeedData):
                self._on_event(event)
                continue
            data = await _read(reader, deadline - loop.time())
            if data is None:
                break  # no C2 yet (ffmpeg waits for S2 first): nothing to check
            if not data:
                return
            self.wire.received(data)
            conn.receive_data(data)
        else:
            early = conn.handshake.leftover or await _read(reader, QUIET_AFTER_C2)
            if early:
                if not conn.handshake.leftover:
                    self.wire.received(early)
                    conn.receive_data(early)
                self._on_event(
                    Violation(
                        "RTMP-HS-WAIT-S2",
                        f"the client sent {len(early)} bytes after C2 before S2 was sent",
                    )
                )
        self._write(s2)

    def _new_connection(self, c1: bytes) -> RTMPConnection:
        digest: bool | None = None
        found = handshake.find_digest(c1, handshake.FP_PARTIAL)
        if self.server.digest is not None:
            digest = self.server.digest
        elif "hs_scheme0_only" in self.faults and found is not None and found[0] == 1:
            digest = False  # the fault: a digest at base 772 goes unnoticed
        return RTMPConnection(
            Role.SERVER,
            random=os.urandom(2 * handshake.PACKET_SIZE),
            digest=digest,
            faults=frozenset(n for n in self.faults.names if n in handshake.FAULT_NAMES)
            | frozenset(n for n in self.faults.names if n in WIRE_FAULTS),
        )

    def _drain(self) -> None:
        assert self.conn is not None
        conn = self.conn
        while True:
            if conn.handshake is None:
                out = conn.data_to_send()
                if out:
                    if "hs_s1_junk_zero" in self.faults:
                        out = _junk_zero(out)
                    if "hs_bad_echo_time" in self.faults and out[5:9] == bytes(4):
                        at = 1 + handshake.PACKET_SIZE  # a plain S2's time field
                        out = out[:at] + b"\xde\xad\xbe\xef" + out[at + 4 :]
                    self._write(out)
                    if "send_before_c2" in self.faults:
                        self._send(WindowAckSize(WINDOW))
            event = conn.next_event()
            if isinstance(event, NeedData):
                return
            self._on_event(event)
            self._acknowledge()

    def _acknowledge(self) -> None:
        assert self.conn is not None
        ack = self.conn.ack_due()
        if ack is None or "no_ack" in self.faults:
            return
        if "ack_wrong_count" in self.faults:
            ack = type(ack)(ack.sequence + 1_000_000 & 0xFFFFFFFF)
        self._send(ack)

    def end(self) -> None:
        for task in self.feeds:
            task.cancel()
        for name in list(self.publishing.values()):
            self._unpublish(name)
        self.server.hub.stop_playing(self)

    # -- writing ----------------------------------------------------------------------------

    def _write(self, data: bytes) -> None:
        if data and not self.writer.is_closing():
            self.server.bytes_sent += len(data)
            self.wire.sent(data)
            self.writer.write(data)

    def _send(self, event: Event, *, timestamp: int = 0, csid: int | None = None) -> None:
        assert self.conn is not None
        self._write(self.conn.send(event, timestamp=timestamp, csid=csid))

    def _status(self, stream_id: int, code: str, level: str = "status", **extra: Any) -> None:
        info = status(code, level=level, **extra)
        if "onstatus_no_level" in self.faults:
            info.pop("level")
        if "onstatus_wrong_stream" in self.faults:
            stream_id = 0
        self._send(Command("onStatus", 0.0, None, (info,), stream_id))

    # -- events -----------------------------------------------------------------------------

    def _on_event(self, event: Event) -> None:
        if isinstance(event, Violation):
            self.server.violations.append(event)
            observe.report(event)
            self.server._notify()
        elif not isinstance(event, Command):
            self.server.events.append(event)
            self.server._notify()
        if isinstance(event, UserControl) and event.kind == UserControlType.PING_REQUEST:
            if "no_ping_response" not in self.faults:
                csid = COMMAND_CSID if "uc_wrong_channel" in self.faults else None
                self._send(UserControl(UserControlType.PING_RESPONSE, event.value), csid=csid)
        elif isinstance(event, Command):
            self.server.commands.append(event)
            self.server._notify()
            self._on_command(event)
        elif isinstance(event, DataMessage):
            self._on_data(event)
        elif isinstance(event, Media):
            self._on_media(event)
        elif isinstance(event, OtherMessage) and "close_on_unknown_type" in self.faults:
            if event.message.type_id not in MessageType._value2member_map_:
                raise ConnectionResetError("the close_on_unknown_type fault")

    def _on_command(self, cmd: Command) -> None:
        handler = {
            "connect": self._connect,
            "createStream": self._create_stream,
            "publish": self._publish,
            "play": self._play,
            "deleteStream": self._delete_stream,
            "closeStream": self._close_stream,
            "releaseStream": self._simple_result,
            "FCPublish": self._fc_publish,
            "FCUnpublish": self._simple_result,
            "FCSubscribe": self._simple_result,
            "getStreamLength": self._simple_result,
            "_checkbw": self._simple_result,
        }.get(cmd.name)
        if handler is not None:
            handler(cmd)
        elif cmd.name in ("_result", "_error", "onBWDone", "receiveAudio", "receiveVideo"):
            pass  # answers and notifications need no reply
        elif "close_on_unknown" in self.faults:
            raise ConnectionResetError("the close_on_unknown fault")
        elif cmd.transaction_id > 0:
            info = status("NetConnection.Call.Failed", f"unknown command {cmd.name}", "error")
            self._send(Command("_error", cmd.transaction_id, None, (info,)))

    def _connect(self, cmd: Command) -> None:
        obj = cmd.command_object if isinstance(cmd.command_object, dict) else {}
        encoding = obj.get("objectEncoding", 0.0)
        self.object_encoding = float(encoding) if isinstance(encoding, int | float) else 0.0
        if "abandon_message" in self.faults:
            # The fault: the first chunk of a long message, then the _result on the same csid.
            partial = ChunkWriter(128).write(Message(COMMAND_CSID, 0, 20, 0, b"\x05" * 300))
            self._write(partial[: 12 + 128])
        if "no_window_ack" not in self.faults:
            if "control_wrong_channel" in self.faults:
                self._send(WindowAckSize(self.server.window), csid=COMMAND_CSID)
            elif "control_bad_length" in self.faults:
                size = struct.pack(">Q", self.server.window)
                self._raw(Message(2, 0, MessageType.WINDOW_ACK_SIZE, 0, size))
            else:
                self._send(WindowAckSize(self.server.window))
            limit = 5 if "peer_bw_bad_limit" in self.faults else 2
            self._send(SetPeerBandwidth(WINDOW, limit))
        if "bad_chunk_size" in self.faults:
            self._raw(Message(2, 0, MessageType.SET_CHUNK_SIZE, 0, struct.pack(">I", 0x80001000)))
        else:
            self._send(SetChunkSize(CHUNK_SIZE))
        code = "NetConnection.Connect.Success"
        if "connect_wrong_code" in self.faults:
            code = "NetConnection.Connect.Rejected"
        encoding = 3.0 if "wrong_object_encoding" in self.faults else self.object_encoding
        info = status(code, "Connection succeeded.", objectEncoding=encoding)
        props = {"fmsVer": "FMS/3,5,7,7009", "capabilities": 31.0, "mode": 1.0}
        result = Command("_result", cmd.transaction_id, props, (info,))
        if "bad_amf_result" in self.faults:
            message = encode(result)
            self._raw(Message(message.csid, 0, message.type_id, 0, message.payload[:-3]))
        elif "result_tid_string" in self.faults:
            payload = amf0.encode_all("_result", "1", props, info)
            self._raw(Message(COMMAND_CSID, 0, MessageType.COMMAND_AMF0, 0, payload))
        else:
            self._send(result, csid=2 if "result_on_csid2" in self.faults else None)

    def _raw(self, message: Message) -> None:
        assert self.conn is not None
        self._write(self.conn.send_message(message))

    def _create_stream(self, cmd: Command) -> None:
        stream_id = self.next_stream_id
        self.next_stream_id += 1
        tid = cmd.transaction_id + (1 if "wrong_transaction_id" in self.faults else 0)
        value: float | None = None if "createstream_no_id" in self.faults else float(stream_id)
        self._send(Command("_result", tid, None, (value,)))

    def _simple_result(self, cmd: Command) -> None:
        if cmd.transaction_id > 0:
            self._send(Command("_result", cmd.transaction_id, None, (None,)))

    def _fc_publish(self, cmd: Command) -> None:
        if "close_on_fcpublish" in self.faults:
            raise ConnectionResetError("the close_on_fcpublish fault")
        name = str(cmd.args[0]) if cmd.args else ""
        self._send(Command("onFCPublish", 0.0, None, (status("NetStream.Publish.Start", name),)))
        self._simple_result(cmd)

    def _publish(self, cmd: Command) -> None:
        name = _stream_name(cmd)
        allow = "allow_duplicate_publish" in self.faults
        if not name or not self.server.hub.publish(name, self, allow_duplicate=allow):
            self._status(cmd.stream_id, "NetStream.Publish.BadName", "error")
            return
        self.publishing[cmd.stream_id] = name
        if "no_publish_start" not in self.faults:
            self._status(cmd.stream_id, "NetStream.Publish.Start", details=name)

    def _play(self, cmd: Command) -> None:
        name = _stream_name(cmd)
        sid = cmd.stream_id
        self.playing[sid] = name
        if "no_stream_begin" not in self.faults:
            if "uc_bad_length" in self.faults:
                payload = struct.pack(">HIH", UserControlType.STREAM_BEGIN, sid, 0)
                self._raw(Message(2, 0, MessageType.USER_CONTROL, 0, payload))
            else:
                self._send(UserControl(UserControlType.STREAM_BEGIN, sid))
        if "no_play_reset" not in self.faults:
            self._status(sid, "NetStream.Play.Reset", details=name)
        if "no_play_start" not in self.faults:
            self._status(sid, "NetStream.Play.Start", details=name)
        self._send(DataMessage(("|RtmpSampleAccess", False, False), sid))
        first = self.server.hub.play(name, self, lambda item: self._deliver(sid, item))
        for item in first:
            if isinstance(item, Media) and "no_codec_headers" in self.faults:
                continue
            self._deliver(sid, item)
        if self.server.ping:
            self._send(UserControl(UserControlType.PING_REQUEST, PING_VALUE))
        if self.server.source and self.server.hub.stream(name).publisher is None:
            self.feeds.append(asyncio.create_task(self._feed(sid)))

    async def _feed(self, sid: int) -> None:
        """A generated live stream for this player alone, at the pace of its timestamps."""
        loop = asyncio.get_running_loop()
        start = loop.time()
        for item in generate(Source(), sid, SOURCE_MESSAGES):
            # Pacing, not waiting for an event: live media leaves when its timestamp is due
            # (the first second goes at once, as servers with a GOP cache send it).
            due = start + item.timestamp / 1000 - SOURCE_BURST
            if due > loop.time():
                await asyncio.sleep(due - loop.time())
            if self.writer.is_closing() or sid not in self.playing:
                return
            self._deliver(sid, item)

    def _delete_stream(self, cmd: Command) -> None:
        sid = int(cmd.args[0]) if cmd.args and isinstance(cmd.args[0], float) else cmd.stream_id
        self._close(sid)

    def _close_stream(self, cmd: Command) -> None:
        self._close(cmd.stream_id)

    def _close(self, sid: int) -> None:
        name = self.publishing.pop(sid, None)
        if name is not None and "keep_deleted_stream" not in self.faults:
            self._unpublish(name)
        if self.playing.pop(sid, None) is not None and not self.playing:
            self.server.hub.stop_playing(self)

    def _unpublish(self, name: str) -> None:
        for deliver in self.server.hub.unpublish(name, self):
            if "no_unpublish_notify" not in self.faults:
                deliver(("unpublished", name))

    def _on_data(self, data: DataMessage) -> None:
        values = list(data.values)
        if values[:1] == ["@setDataFrame"]:
            values = values[1:]
        name = self.publishing.get(data.stream_id)
        if name is None or values[:1] != ["onMetaData"] or len(values) < 2:
            return
        meta = values[1] if isinstance(values[1], dict) else {}
        live = self.server.hub.stream(name)
        live.metadata = dict(meta)
        if "drop_metadata" in self.faults:
            return
        for deliver in list(live.players.values()):
            deliver(("onMetaData", live.metadata))

    def _on_media(self, media: Media) -> None:
        name = self.publishing.get(media.stream_id)
        if name is None:
            return
        players = self.server.hub.media(name, media)
        count = self.server.hub.stream(name).media_count
        if "fanout_drop" in self.faults and 30 <= count < 105:
            return
        for deliver in players:
            deliver(media)

    # -- as a player ------------------------------------------------------------------------

    def _deliver(self, sid: int, item: Media | tuple[str, Any]) -> None:
        """Send one item of a live stream to this player on its stream `sid`."""
        if self.writer.is_closing():
            return
        if self.writer.transport.get_write_buffer_size() > MAX_PLAYER_BACKLOG:
            self.writer.close()  # too slow for live: drop it rather than buffer without bound
            return
        target = 0 if "media_wrong_stream" in self.faults else sid
        if isinstance(item, Media):
            self._media_sent += 1
            stamp = item.timestamp
            if "timestamps_backwards" in self.faults and self._media_sent % 3 == 0:
                stamp = max(0, stamp - 100)
            self._send(Media(item.type_id, stamp, item.payload, target))
        elif item[0] == "onMetaData":
            self._send(DataMessage(("onMetaData", item[1]), target))
        elif item[0] == "unpublished":
            self._send(UserControl(UserControlType.STREAM_EOF, sid))
            self._status(sid, "NetStream.Play.UnpublishNotify", details=item[1])


def _stream_name(cmd: Command) -> str:
    """The stream name argument, without a query string (publish and play, §7.2.2)."""
    name = cmd.args[0] if cmd.args else ""
    return str(name).split("?", 1)[0] if isinstance(name, str) else ""


def _junk_zero(s0s1s2: bytes) -> bytes:
    """The hs_s1_junk_zero fault: S1's zero field filled, only when S1 is plain."""
    s1 = s0s1s2[1 : 1 + handshake.PACKET_SIZE]
    if s1[4:8] != b"\0\0\0\0":
        return s0s1s2
    return s0s1s2[:5] + b"\x01\x02\x03\x04" + s0s1s2[9:]


async def _read(reader: asyncio.StreamReader, timeout: float) -> bytes | None:
    """Bytes, b'' at the end of the stream, or None when the deadline passed first."""
    if timeout <= 0:
        return None
    try:
        return await asyncio.wait_for(reader.read(READ_SIZE), timeout)
    except TimeoutError:
        return None
