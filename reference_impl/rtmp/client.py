"""The RTMP reference client: asyncio around the sans-IO connection.

`RTMPClient` is also the checking side of the server suite: it records every event with the
message it came from, reports violations, and answers what a client owes without being asked
(Acknowledgements, PingResponses, §5.4.3 and §7.1.7). `run_session` plays (or, with
`?mode=publish` in the URL, publishes) the way ffmpeg and Flash Player do (§7.2.1, §7.2.2).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import urllib.parse
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from reference_impl.common import observe
from reference_impl.common.events import Event, NeedData, Violation
from reference_impl.common.faults import FaultSet
from reference_impl.rtmp import amf0, handshake, media
from reference_impl.rtmp.chunks import Message
from reference_impl.rtmp.connection import Role, RTMPConnection
from reference_impl.rtmp.faults import FAULTS
from reference_impl.rtmp.handshake import HandshakeComplete
from reference_impl.rtmp.messages import (
    COMMAND_CSID,
    Command,
    DataMessage,
    Media,
    MessageType,
    SetChunkSize,
    SetPeerBandwidth,
    UserControl,
    UserControlType,
    WindowAckSize,
)

DEFAULT_PORT = 1935
DEFAULT_TIMEOUT = 10.0
CHUNK_SIZE = 4096
READ_SIZE = 65536
FLASH_VERSION = "LNX 9,0,124,2"
#: a live stream whose video timestamps jump by more than this lost media on the way
MAX_VIDEO_GAP_MS = 500

#: reference client faults -> the connection-level faults that carry them out
_CONNECTION_FAULTS = {
    "client_hs_bad_version": "hs_bad_version",
    "hs_c2_not_echo": "hs_c2_not_echo",
    "hs_bad_c2_digest": "hs_bad_c2_digest",
    "client_ignore_chunk_size": "ignore_peer_chunk_size",
    "client_first_chunk_fmt1": "first_chunk_fmt1",
}


class RTMPError(Exception):
    """The server refused or never answered; the message says which step."""


@dataclass(frozen=True)
class RTMPURL:
    """rtmp://host[:port]/app[/instance]/stream, split the way Flash Player splits it."""

    host: str
    port: int
    app: str
    stream: str
    query: dict[str, str]

    @property
    def tc_url(self) -> str:
        return f"rtmp://{self.host}:{self.port}/{self.app}"

    @classmethod
    def parse(cls, url: str) -> RTMPURL:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme != "rtmp" or not parts.hostname:
            raise ValueError(f"not an rtmp:// URL: {url!r}")
        segments = [s for s in parts.path.split("/") if s]
        app = "/".join(segments[:-1]) if len(segments) > 1 else "".join(segments)
        stream = segments[-1] if len(segments) > 1 else ""
        query = dict(urllib.parse.parse_qsl(parts.query))
        return cls(parts.hostname, parts.port or DEFAULT_PORT, app, stream, query)


class RTMPClient:
    """One RTMP connection from the client side, with everything received kept in order."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        url: RTMPURL,
        faults: FaultSet,
        timeout: float,
        *,
        digest: bool,
        scheme: int,
        answer: bool,
    ) -> None:
        self.reader, self.writer, self.url, self.faults = reader, writer, url, faults
        self.timeout = timeout
        #: answer Acknowledgements and PingRequests automatically (off to test a server's timing)
        self.answer = answer
        #: the offset base of our C1 digest (0: byte 8, 1: byte 772)
        self.scheme = scheme
        conn_faults = frozenset(
            _CONNECTION_FAULTS[n] for n in faults.names if n in _CONNECTION_FAULTS
        )
        self.conn = RTMPConnection(
            Role.CLIENT,
            random=os.urandom(2 * handshake.PACKET_SIZE),
            digest=digest,
            scheme=scheme,
            faults=conn_faults,
        )
        #: every event received, with the chunk-stream message it came from (None: handshake)
        self.log: list[tuple[Event, Message | None]] = []
        self.violations: list[Violation] = []
        self.closed = False
        self._tids = itertools.count(2)
        local, remote = writer.get_extra_info("sockname"), writer.get_extra_info("peername")
        self.wire = observe.recorder("rtmp", "tcp", local[:2], remote[:2], "client")

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        faults: Iterable[str] = (),
        timeout: float = DEFAULT_TIMEOUT,
        digest: bool = True,
        scheme: int = 0,
        do_handshake: bool = True,
        answer: bool = True,
    ) -> RTMPClient:
        """Connect over TCP and (unless told not to) complete the handshake."""
        where = RTMPURL.parse(url)
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(where.host, where.port), timeout
        )
        client = cls(
            reader,
            writer,
            where,
            FaultSet(FAULTS, faults),
            timeout,
            digest=digest,
            scheme=scheme,
            answer=answer,
        )
        if do_handshake:
            await client.handshake()
        return client

    async def __aenter__(self) -> RTMPClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if not self.writer.is_closing():
            self.wire.closed(by_peer=False)
            self.writer.close()
        try:
            await asyncio.wait_for(self.writer.wait_closed(), 1.0)
        except (OSError, TimeoutError):
            pass

    # -- bytes ------------------------------------------------------------------------------

    def write(self, data: bytes) -> None:
        if data and not self.writer.is_closing():
            self.wire.sent(data)
            self.writer.write(data)

    def send(self, event: Event, *, timestamp: int = 0, csid: int | None = None) -> None:
        self.write(self.conn.send(event, timestamp=timestamp, csid=csid))

    def send_message(self, message: Message) -> None:
        self.write(self.conn.send_message(message))

    async def read(self, timeout: float) -> bytes:
        """Bytes from the server; b'' when it closed or nothing came before the deadline."""
        try:
            data = await asyncio.wait_for(self.reader.read(READ_SIZE), timeout)
        except TimeoutError:
            return b""
        except ConnectionError:
            data = b""
        if not data:
            self.closed = True
            return b""
        self.wire.received(data)
        return data

    # -- handshake --------------------------------------------------------------------------

    async def handshake(self) -> HandshakeComplete:
        c0c1 = self.conn.initial_data()
        if "hs_bad_c1_digest" in self.faults:
            at = handshake.digest_offset(c0c1[1:], self.scheme) + 1
            c0c1 = c0c1[:at] + bytes([c0c1[at] ^ 0xFF]) + c0c1[at + 1 :]
        self.write(c0c1)
        early_connect = "client_no_wait_s2" in self.faults
        deadline = asyncio.get_running_loop().time() + self.timeout
        while True:
            out = self.conn.data_to_send()
            if out and "client_hs_bad_echo_time" in self.faults:
                out = b"\xde\xad\xbe\xef" + out[4:]  # C2's time field
            self.write(out)
            if out and early_connect:
                early_connect = False
                self._send_connect()  # the fault: before S2 has arrived
            event = self.conn.next_event()
            if isinstance(event, NeedData):
                remaining = deadline - asyncio.get_running_loop().time()
                data = await self.read(max(0.0, remaining))
                if not data:
                    raise RTMPError("the server did not complete the handshake")
                self.conn.receive_data(data)
                continue
            self._record(event, None)
            if isinstance(event, HandshakeComplete):
                self.write(self.conn.data_to_send())
                return event

    # -- events -----------------------------------------------------------------------------

    def _record(self, event: Event, message: Message | None) -> None:
        self.log.append((event, message))
        if isinstance(event, Violation):
            self.violations.append(event)
            observe.report(event)

    async def next_event(self, timeout: float | None = None) -> Event | None:
        """The next event from the server; None when it closed or the deadline passed."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (self.timeout if timeout is None else timeout)
        while True:
            event = self.conn.next_event()
            if not isinstance(event, NeedData):
                self._record(event, self.conn.last_message)
                self._owe(event)
                return event
            if self.closed:
                return None
            remaining = deadline - loop.time()
            if remaining <= 0:
                return None
            data = await self.read(remaining)
            if data:
                self.conn.receive_data(data)
            elif not self.closed:
                return None

    async def wait_for(
        self, predicate: Callable[[Event], bool], timeout: float | None = None
    ) -> Event | None:
        """Read until an event satisfies `predicate`; None if the server closed or time ran out."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (self.timeout if timeout is None else timeout)
        while True:
            event = await self.next_event(max(0.0, deadline - loop.time()))
            if event is None:
                return None
            if predicate(event):
                return event

    def _owe(self, event: Event) -> None:
        """What a client sends unasked: acks, ping responses, its window after a new one."""
        if not self.answer:
            return
        if isinstance(event, UserControl) and event.kind == UserControlType.PING_REQUEST:
            if "client_no_ping_response" not in self.faults:
                self.send(UserControl(UserControlType.PING_RESPONSE, event.value))
        elif isinstance(event, SetPeerBandwidth) and "client_no_window_reply" not in self.faults:
            self.send(WindowAckSize(event.size))
        ack = self.conn.ack_due()
        if ack is not None and "client_no_ack" not in self.faults:
            self.send(ack)

    # -- commands ---------------------------------------------------------------------------

    def next_tid(self) -> float:
        """A transaction ID not used before on this connection."""
        return float(next(self._tids))

    async def call(
        self,
        name: str,
        *args: Any,
        command_object: Any = None,
        stream_id: int = 0,
        timeout: float | None = None,
    ) -> Command | None:
        """Send a command with a fresh transaction ID and wait for its _result or _error."""
        tid = float(next(self._tids))
        self.send(Command(name, tid, command_object, args, stream_id))
        return await self.wait_for_answer(tid, timeout)

    async def wait_for_answer(self, tid: float, timeout: float | None = None) -> Command | None:
        found = await self.wait_for(
            lambda e: (
                isinstance(e, Command)
                and e.name in ("_result", "_error")
                and e.transaction_id == tid
            ),
            timeout,
        )
        return found if isinstance(found, Command) else None

    def connect_object(self, **extra: Any) -> dict[str, Any]:
        obj: dict[str, Any] = {
            "app": self.url.app,
            "flashVer": FLASH_VERSION,
            "tcUrl": self.url.tc_url,
            "fpad": False,
            "capabilities": 15.0,
            "audioCodecs": 3191.0,
            "videoCodecs": 252.0,
            "videoFunction": 1.0,
            "objectEncoding": 0.0,
        }
        if "client_no_tcurl" in self.faults:
            del obj["tcUrl"]
        if "client_no_flashver" in self.faults:
            del obj["flashVer"]
        obj.update(extra)
        return obj

    def _send_connect(self) -> None:
        tid = 2.0 if "client_connect_tid_2" in self.faults else 1.0
        self.send(Command("connect", tid, self.connect_object()))

    async def connect(self, *, chunk_size: int | None = CHUNK_SIZE) -> Command:
        """Set our chunk size, send connect, and wait for NetConnection.Connect.Success."""
        if chunk_size is not None:
            csid = COMMAND_CSID if "client_control_wrong_channel" in self.faults else None
            self.send(SetChunkSize(chunk_size), csid=csid)
        if "client_no_wait_s2" not in self.faults:
            self._send_connect()
        tid = 2.0 if "client_connect_tid_2" in self.faults else 1.0
        answer = await self.wait_for_answer(tid)
        if answer is None:
            raise RTMPError("connect got no _result or _error")
        if answer.name != "_result":
            raise RTMPError(f"connect refused: {answer.info().get('code')}")
        return answer

    async def create_stream(self) -> int:
        tid = float(next(self._tids))
        cmd = Command("createStream", tid, None)
        if "client_bad_amf" in self.faults:
            payload = amf0.encode_all("createStream", tid, None)[:-4]  # cut inside the number
            self.send_message(Message(COMMAND_CSID, 0, MessageType.COMMAND_AMF0, 0, payload))
        else:
            self.send(cmd)
        answer = await self.wait_for_answer(tid)
        if answer is None or answer.name != "_result" or not answer.args:
            raise RTMPError("createStream got no _result with a stream ID")
        value = answer.args[0]
        if not isinstance(value, float | int) or isinstance(value, bool):
            raise RTMPError(f"createStream _result carries {value!r}, not a stream ID")
        return int(value)

    async def status(self, stream_id: int, timeout: float | None = None) -> Command | None:
        """The next onStatus on `stream_id` (or any stream, if the server puts it elsewhere)."""
        found = await self.wait_for(
            lambda e: isinstance(e, Command) and e.name == "onStatus", timeout
        )
        return found if isinstance(found, Command) else None

    def play(self, stream_id: int, name: str) -> None:
        tid = 1.0 if "client_play_tid_1" in self.faults else 0.0
        obj: dict[str, Any] | None = {} if "client_play_object" in self.faults else None
        self.send(Command("play", tid, obj, (name, -2000.0, -1000.0, True), stream_id))

    def publish(self, stream_id: int, name: str) -> None:
        args: tuple[Any, ...] = (
            (name,) if "client_publish_no_type" in self.faults else (name, "live")
        )
        self.send(Command("publish", 0.0, None, args, stream_id))


async def run_session(
    url: str, faults: Iterable[str] = (), timeout: float = DEFAULT_TIMEOUT
) -> dict[str, int]:
    """Play `url` (or publish to it, with ?mode=publish) like a player; returns what it got."""
    where = RTMPURL.parse(url)
    async with await RTMPClient.open(url, faults=faults, timeout=timeout) as client:
        await client.connect()
        if where.query.get("mode") == "publish":
            return await _publish(client, where)
        return await _play(client, where, int(where.query.get("count", "50")))


async def _play(client: RTMPClient, where: RTMPURL, count: int) -> dict[str, int]:
    stream_id = await client.create_stream()
    if "client_wrong_stream" in client.faults:
        stream_id += 1
    client.send(UserControl(UserControlType.SET_BUFFER_LENGTH, stream_id, 3000))
    client.play(stream_id, where.stream)
    got = 0

    def counted(event: Event) -> bool:
        nonlocal got
        if isinstance(event, Media):
            got += 1
        ended = isinstance(event, Command) and "UnpublishNotify" in str(event.info().get("code"))
        return got >= count or ended

    await client.wait_for(counted)
    video = [
        e.timestamp
        for e, _ in client.log
        if isinstance(e, Media) and e.type_id == MessageType.VIDEO and len(e.payload) > 5
    ]
    holes = [(a, b) for a, b in zip(video, video[1:], strict=False) if b - a > MAX_VIDEO_GAP_MS]
    if holes:
        a, b = holes[0]
        raise RTMPError(f"video jumped from {a} ms to {b} ms: media were lost on the way")
    if "client_no_deletestream" not in client.faults:
        client.send(Command("deleteStream", 0.0, None, (float(stream_id),)))
    if got == 0:
        raise RTMPError(f"no media arrived for {where.stream!r}")
    return {"media": got}


async def _publish(client: RTMPClient, where: RTMPURL) -> dict[str, int]:
    client.send(Command("releaseStream", client.next_tid(), None, (where.stream,)))
    client.send(Command("FCPublish", client.next_tid(), None, (where.stream,)))
    stream_id = await client.create_stream()
    client.publish(stream_id, where.stream)
    started = await client.wait_for(lambda e: isinstance(e, Command) and e.name == "onStatus")
    code = started.info().get("code") if isinstance(started, Command) else None
    if code != "NetStream.Publish.Start":
        raise RTMPError(f"publish was answered with {code or 'nothing'}")
    if "client_no_metadata" not in client.faults:
        meta = ("@setDataFrame", "onMetaData", media.metadata())
        client.send(DataMessage(meta, stream_id))
    count = int(where.query.get("count", "100"))
    items = list(media.generate(media.Source(), stream_id, count))
    if "client_no_sequence_header" in client.faults:
        items = items[1:]
    paced = where.query.get("pace") == "live"
    loop = asyncio.get_running_loop()
    start = loop.time()
    for item in items:
        if paced:
            # Pacing, not waiting for an event: a live publisher sends media when it is due.
            due = start + item.timestamp / 1000
            if due > loop.time():
                await client.writer.drain()
                await asyncio.sleep(due - loop.time())
            if client.closed or client.writer.is_closing():
                raise RTMPError("the server closed the connection while we published")
        client.send(item)
    client.send(Command("FCUnpublish", 0.0, None, (where.stream,)))
    if "client_no_deletestream" not in client.faults:
        client.send(Command("deleteStream", 0.0, None, (float(stream_id),)))
    await client.writer.drain()  # TCP delivers it all before our close
    return {"media": len(items)}
