"""The RTSP reference server's asyncio adapter: sockets, media pacing, faults on the wire.

`ServerLogic` (server_logic.py) decides every answer; this module only moves bytes, starts a
media task when a session plays and stops it on PAUSE, TEARDOWN or close.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterable

from reference_impl.common import observe
from reference_impl.common.events import ProtocolError, Violation
from reference_impl.common.faults import FaultSet
from reference_impl.common.watch import Watched
from reference_impl.rtsp.connection import Role, RTSPConnection
from reference_impl.rtsp.faults import FAULTS
from reference_impl.rtsp.messages import BadRequest, InterleavedFrame, Request, Response
from reference_impl.rtsp.rtcp import (
    CNAME,
    AnyRtcp,
    SdesChunk,
    SenderReport,
    SourceDescription,
    ntp_timestamp,
    serialize_rtcp,
)
from reference_impl.rtsp.rtp import serialize_rtp
from reference_impl.rtsp.server_logic import SERVER_NAME, ServerLogic, Session, Track
from reference_impl.rtsp.transport import bind_rtp_pair

IDLE_TIMEOUT = 120.0
PACING = 0.01  # how often media time is looked at; packets follow their own timestamps
RTCP_INTERVAL = 1.0  # a fixed interval is enough for one sender on loopback (RFC 3550 §6.2)
CNAME_VALUE = b"streamconform@127.0.0.1"

__all__ = ["ReferenceServer"]


class ReferenceServer(Watched["ReferenceServer"]):
    """One ServerLogic; an RTSPConnection per TCP connection; a media task per playing session."""

    protocol = "rtsp"

    def __init__(self, faults: Iterable[str] = (), path: str = "/test") -> None:
        self.faults = FaultSet(FAULTS, faults)
        self.path = path
        self.logic: ServerLogic | None = None
        self.requests: list[Request | BadRequest] = []  # what clients sent, for client suites
        self.exchanges: list[tuple[Request | BadRequest, Response]] = []
        self.violations: list[Violation] = []
        self.connections_closed = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._streams: dict[str, asyncio.Task[None]] = {}
        self._udp: dict[tuple[str, str], tuple[socket.socket, socket.socket]] = {}
        self._pending_udp: list[tuple[socket.socket, socket.socket]] = []
        self._backwards = 2**31  # the timestamp the rtp_timestamp_backwards fault counts down

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        self._server = await asyncio.start_server(self._serve, host, port)
        bound = int(self._server.sockets[0].getsockname()[1])
        self.logic = ServerLogic(
            self.faults, f"rtsp://{host}:{bound}{self.path}", self._bind_udp_pair
        )
        return bound

    def url(self, host: str, port: int) -> str:
        return f"rtsp://{host}:{port}{self.path}"

    def _bind_udp_pair(self) -> tuple[int, int]:
        """Bind the RTP/RTCP pair a SETUP will announce; kept until the session's media uses it."""
        pair = bind_rtp_pair("127.0.0.1")
        self._pending_udp.append(pair)
        port = int(pair[0].getsockname()[1])
        return port, port + 1

    async def close(self) -> None:
        if self._server is None:
            return
        self._server.close()
        for task in [*self._tasks, *self._streams.values()]:
            task.cancel()
        await asyncio.gather(*self._tasks, *self._streams.values(), return_exceptions=True)
        for pair in [*self._udp.values(), *self._pending_udp]:
            for sock in pair:
                sock.close()
        await self._server.wait_closed()

    # -- one connection ------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        local = writer.get_extra_info("sockname")[:2]
        remote = writer.get_extra_info("peername")[:2]
        wire = observe.recorder("rtsp", "tcp", local, remote, "server")
        conn = RTSPConnection(Role.SERVER)
        loop = asyncio.get_running_loop()
        owned: set[str] = set()
        by_peer = True
        try:
            while True:
                data = await asyncio.wait_for(reader.read(65536), IDLE_TIMEOUT)
                wire.received(data)
                conn.receive_data(data)
                try:
                    events = conn.events()
                except ProtocolError as exc:
                    out = conn.send(Response(400, (("Server", SERVER_NAME),)))
                    wire.sent(out)
                    writer.write(out)
                    self.violations.append(Violation("RTSP-MSG-FRAMING", str(exc)))
                    by_peer = False
                    break
                for event in events:
                    if isinstance(event, (Request, BadRequest)):
                        self.requests.append(event)
                        self._notify()
                        assert self.logic is not None
                        response = self.logic.respond(event, loop.time())
                        self.exchanges.append((event, response))
                        out = self._on_the_wire(conn.send(response))
                        wire.sent(out)
                        writer.write(out)
                        if isinstance(event, Request) and response.status == 200:
                            self._media_effects(event, writer, wire, remote[0], owned)
                    elif isinstance(event, Violation):
                        self.violations.append(event)
                        observe.report(event)
                await writer.drain()
                if not data:
                    break
        except (TimeoutError, ConnectionError, asyncio.CancelledError):
            by_peer = False
        finally:
            for session_id in owned:
                self._stop_stream(session_id)
            wire.closed(by_peer)
            self.connections_closed += 1
            self._notify()
            writer.close()
            if task is not None:
                self._tasks.discard(task)

    def _on_the_wire(self, out: bytes) -> bytes:
        """Faults that change bytes after serialisation, as a broken server would send them."""
        if "malformed_status_line" in self.faults:
            line, _, rest = out.partition(b"\r\n")
            out = b" ".join(line.split(b" ")[::2]) + b"\r\n" + rest
        if "bare_lf" in self.faults:
            head, _, body = out.partition(b"\r\n\r\n")
            out = head.replace(b"\r\n", b"\n") + b"\n\n" + body
        return out

    # -- media ---------------------------------------------------------------------------

    def _media_effects(
        self,
        request: Request,
        writer: asyncio.StreamWriter,
        wire: observe.WireRecorder,
        host: str,
        owned: set[str],
    ) -> None:
        assert self.logic is not None
        session_id = (request.header("Session") or "").split(";")[0].strip()
        if request.method == "SETUP":
            session = self.logic.sessions.get(session_id) or self._newest_session()
            if session is None:
                return
            owned.add(session.id)
            track = session.tracks[session.last_setup]
            ports = track.delivery.server_ports
            if ports is not None:
                pair = next(p for p in self._pending_udp if p[0].getsockname()[1] == ports[0])
                self._pending_udp.remove(pair)
                self._udp[(session.id, track.control)] = pair
        elif request.method == "PLAY":
            session = self.logic.sessions.get(session_id)
            if session is not None and session_id not in self._streams:
                self._streams[session_id] = asyncio.create_task(
                    self._stream(session, writer, wire, host)
                )
        elif request.method in ("PAUSE", "TEARDOWN"):
            self._stop_stream(session_id)

    def _newest_session(self) -> Session | None:
        assert self.logic is not None
        return next(reversed(self.logic.sessions.values()), None)

    def _stop_stream(self, session_id: str) -> None:
        task = self._streams.pop(session_id, None)
        if task is not None:
            task.cancel()
        if self.logic is not None and session_id not in self.logic.sessions:
            for key in [k for k in self._udp if k[0] == session_id]:
                for sock in self._udp.pop(key):
                    sock.close()

    def _broken_rtp(self, data: bytes) -> bytes:
        """The RTP faults: each breaks one rule of RFC 3550 §5.1 in the packet's bytes."""
        packet = bytearray(data)
        if "rtp_bad_version" in self.faults:
            packet[0] = packet[0] & 0x3F | 0x40
        if "rtp_bad_padding" in self.faults:
            packet[0] |= 0x20
            packet[-1] = 255
        if "rtp_timestamp_backwards" in self.faults:
            self._backwards -= 160
            packet[4:8] = (self._backwards & 0xFFFFFFFF).to_bytes(4, "big")
        if "rtp_ssrc_changes" in self.faults:
            packet[8:12] = bytes(packet[8:11]) + bytes([(packet[11] + packet[3]) & 0xFF])
        return bytes(packet)

    async def _stream(
        self, session: Session, writer: asyncio.StreamWriter, wire: observe.WireRecorder, host: str
    ) -> None:
        """Send each track's packets as media time passes, and an RTCP SR + SDES every second,
        until cancelled (PAUSE, TEARDOWN, close); the media position is kept for a resume."""
        loop = asyncio.get_running_loop()
        started = loop.time() - session.media_time
        next_report = loop.time()
        conn = RTSPConnection(Role.SERVER)
        try:
            while not writer.is_closing() and "no_media_after_play" not in self.faults:
                session.media_time = loop.time() - started
                for track in session.tracks.values():
                    for packet in track.stream.packets_until(session.media_time):
                        self._send(
                            track,
                            0,
                            self._broken_rtp(serialize_rtp(packet)),
                            conn,
                            writer,
                            wire,
                            host,
                        )
                if loop.time() >= next_report and "no_rtcp" not in self.faults:
                    for track in session.tracks.values():
                        self._send(track, 1, self._sender_report(track), conn, writer, wire, host)
                    next_report += RTCP_INTERVAL
                await asyncio.sleep(PACING)
        finally:
            session.media_time = loop.time() - started

    def _sender_report(self, track: Track) -> bytes:
        """SR then SDES with the CNAME: a compound packet as RFC 3550 §6.1 wants it."""
        sender = track.stream.sender
        report = SenderReport(
            sender.ssrc,
            ntp_timestamp=ntp_timestamp(time.time()),
            rtp_timestamp=track.stream.next_timestamp,
            packet_count=sender.packets_sent,
            octet_count=sender.octets_sent,
        )
        items = () if "rtcp_no_cname" in self.faults else ((CNAME, CNAME_VALUE),)
        sdes = SourceDescription((SdesChunk(sender.ssrc, items),))
        if "rtcp_wrong_ssrc" in self.faults:
            report = SenderReport(sender.ssrc ^ 0xFFFF, report.ntp_timestamp, report.rtp_timestamp)
        packets: list[AnyRtcp] = [report, sdes]
        if "rtcp_sdes_first" in self.faults:
            packets.reverse()
        return serialize_rtcp(packets)

    def _send(
        self,
        track: Track,
        offset: int,
        data: bytes,
        conn: RTSPConnection,
        writer: asyncio.StreamWriter,
        wire: observe.WireRecorder,
        host: str,
    ) -> None:
        """RTP (offset 0) or RTCP (offset 1): on the interleaved channel, or to the client port."""
        delivery = track.delivery
        if delivery.channel is not None:
            frame = conn.send(InterleavedFrame(delivery.channel + offset, data))
            wire.sent(frame)
            writer.write(frame)
            return
        pair = self._udp.get((self._session_of_track(track), track.control))
        if delivery.client_ports is not None and pair is not None:
            try:
                pair[offset].sendto(data, (host, delivery.client_ports[offset]))
            except OSError:
                pass  # nobody listens yet: UDP media is fire-and-forget

    def _session_of_track(self, track: Track) -> str:
        assert self.logic is not None
        return next(
            (sid for sid, s in self.logic.sessions.items() if track in s.tracks.values()), ""
        )
