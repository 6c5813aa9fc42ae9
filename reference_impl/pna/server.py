"""The PNA reference server: asyncio around the sans-IO connection, one generated stream.

`/stream.rm` is a live, generated RealMedia-framed stream (one stream of synthetic audio
payload): the PNA chunk with a challenge, the header chunks, the challenge block, then data
packets, the first `BURST` at once and the rest at 20 a second, `count` in all. Other paths are
refused with a server message. Named faults switch on one deviation each.
"""

from __future__ import annotations

import asyncio
import os
import urllib.parse
from collections.abc import Iterable

from reference_impl.common import observe
from reference_impl.common.events import NeedData, ProtocolError, Violation
from reference_impl.common.faults import FaultSet
from reference_impl.common.tcp_server import TcpReferenceServer
from reference_impl.pna import rm, wire
from reference_impl.pna.connection import (
    ChallengeResponse,
    KeepAlive,
    PNAConnection,
    RequestReceived,
    Role,
)
from reference_impl.pna.faults import FAULTS
from reference_impl.pna.wire import PnaRequest

STREAM_PATH = "/stream.rm"
DEFAULT_COUNT = 120
BURST = 60
PACKETS_PER_SECOND = 20
PAYLOAD = 200
REQUEST_TIMEOUT = 10.0
MIME = "audio/x-pn-realaudio"


class ReferenceServer(TcpReferenceServer["ReferenceServer"]):
    """PNA on one loopback port; `faults` switch on deviations."""

    def __init__(self, faults: Iterable[str] = (), count: int = DEFAULT_COUNT) -> None:
        super().__init__()
        self.faults = FaultSet(FAULTS, faults)
        self.count = count
        #: every request received, in order
        self.requests: list[PnaRequest] = []
        self.violations: list[Violation] = []
        self.challenge_responses: list[bytes] = []
        self.keepalives = 0
        #: data packets written to the client of each connection when it closed (or the last)
        self.packets_sent: list[int] = []
        self.connections = 0
        self.finished = 0

    def url(self, host: str, port: int) -> str:
        return f"pnm://{host}:{port}{STREAM_PATH}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        local, remote = writer.get_extra_info("sockname"), writer.get_extra_info("peername")
        wire_log = observe.recorder("pna", "tcp", local[:2], remote[:2], "server")
        session = _Session(self, reader, writer, wire_log)
        try:
            await session.run()
        except (ConnectionError, ProtocolError, TimeoutError):
            pass
        except asyncio.CancelledError:
            pass
        finally:
            self.packets_sent.append(session.sent)
            self.finished += 1
            wire_log.closed(by_peer=False)
            writer.close()
            self._notify()


class _Session:
    def __init__(
        self,
        server: ReferenceServer,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        wire_log: observe.WireRecorder,
    ) -> None:
        self.server, self.reader, self.writer, self.wire = server, reader, writer, wire_log
        self.faults = server.faults
        self.conn = PNAConnection(Role.SERVER)
        self.sent = 0
        self.stop = asyncio.Event()

    def write(self, data: bytes) -> None:
        if not self.writer.is_closing():
            self.wire.sent(data)
            self.writer.write(data)

    async def run(self) -> None:
        request = await asyncio.wait_for(self._request(), REQUEST_TIMEOUT)
        if request is None:
            return
        path = urllib.parse.unquote(request.path)
        # MPlayer sends the URL's path with its slash, xine without: both name the stream.
        if path.split("?", 1)[0].lstrip("/") != STREAM_PATH.lstrip("/"):
            if "pna_bare_close" not in self.faults:
                self.write(wire.refusal(f"{path}: no such stream; try {STREAM_PATH}"))
            return
        self.write(self._headers())
        listener = asyncio.create_task(self._listen())
        try:
            if await self._stream():
                # The end, said as a server message: the clients stop on it, where a bare close
                # sends MPlayer's -dumpstream into an endless loop of read errors.
                self.write(wire.server_message("end of stream"))
            await self.writer.drain()
        finally:
            listener.cancel()
            await asyncio.gather(listener, return_exceptions=True)

    async def _request(self) -> PnaRequest | None:
        while True:
            data = await self.reader.read(4096)
            if not data:
                return None
            self.wire.received(data)
            self.conn.receive_data(data)
            try:
                events = self.conn.events()
            except ProtocolError as exc:
                self._record(Violation(exc.requirement_id or "PNA-REQ-SIGNATURE", str(exc)))
                if "pna_answers_junk" in self.faults:
                    self.write(self._headers())
                return None
            for event in events:
                self._record(event)
                if isinstance(event, RequestReceived):
                    self.server.requests.append(event.request)
                    self.server._notify()
                    return event.request

    def _record(self, event: object) -> None:
        if isinstance(event, Violation):
            self.server.violations.append(event)
            observe.report(event)
        elif isinstance(event, ChallengeResponse):
            self.server.challenge_responses.append(event.response)
        elif isinstance(event, KeepAlive):
            self.server.keepalives += 1
            if "pna_keepalive_breaks" in self.faults:
                self.stop.set()
        self.server._notify()

    async def _listen(self) -> None:
        """What the client sends while it plays: the challenge response and keep-alives."""
        while True:
            data = await self.reader.read(4096)
            if not data:
                self.stop.set()
                return
            self.wire.received(data)
            self.conn.receive_data(data)
            while not isinstance(event := self.conn.next_event(), NeedData):
                self._record(event)

    def _headers(self) -> bytes:
        f = self.faults
        streams = 2 if "pna_missing_mdpr" in f else 1
        rate = PAYLOAD * PACKETS_PER_SECOND * 8
        prop = rm.prop(bit_rate=rate, packet_size=PAYLOAD, duration_ms=0, num_streams=streams)
        if "pna_short_prop" in f:
            prop = prop[:4] + (46).to_bytes(4, "big") + prop[8:46]
        # A RealAudio-style type-specific block: the clients only carry it through.
        mdpr = rm.mdpr(0, MIME, bit_rate=rate, packet_size=PAYLOAD, specific=b".ra\xfd\x00\x04")
        comment = "x" * 5000 if "pna_huge_headers" in f else ""
        cont = rm.cont("streamconform PNA test stream")
        if comment:
            cont = rm.chunk(b"CONT", cont[10:] + comment.encode())
        data = rm.data_header()
        if "pna_full_data_size" in f:
            data = data[:4] + (18 + self.server.count * 215).to_bytes(4, "big") + data[8:]
        headers = [rm.rmf(4), prop, mdpr, cont, data]
        if "pna_no_rmf" in f:
            headers = headers[1:]
        sub = [b"\x00\x00\x00\x00\x00\x00\x00\x00"]
        pna = wire.pna_chunk(sub, challenge=True)
        if "pna_bad_subchunk" in f:
            pna = pna[:11] + b"\x4f\x7f" + pna[13:]
        if "pna_no_pna_chunk" in f:
            pna = b""
        block = b"" if "pna_no_challenge_block" in f else os.urandom(36).hex().encode()
        return pna + b"".join(headers) + block

    async def _stream(self) -> bool:
        """Send the packets; True if all went, False if the client or a fault stopped it."""
        loop = asyncio.get_running_loop()
        start = loop.time()
        index = 0
        for n in range(self.server.count):
            if self.stop.is_set() or self.writer.is_closing():
                return False
            due = start + max(0, n - BURST) / PACKETS_PER_SECOND
            if due > loop.time():
                # Pacing, not waiting for an event: live packets leave when they are due.
                await self.writer.drain()
                try:
                    await asyncio.wait_for(self.stop.wait(), due - loop.time())
                    return False
                except TimeoutError:
                    pass
            stamp = n * 1000 // PACKETS_PER_SECOND
            if "pna_time_backwards" in self.faults and n % 5 == 4:
                stamp = max(0, stamp - 500)
            if "pna_index_gap" in self.faults and n and n % 10 == 0:
                index += 1
            payload = bytes((n + i) & 0xFF for i in range(PAYLOAD))
            packet = wire.data_packet(index, 0x10 + n, stamp, payload)
            if "pna_unequal_lengths" in self.faults and n == 3:
                packet = (
                    packet[:3]
                    + (int.from_bytes(packet[3:5], "big") + 1).to_bytes(2, "big")
                    + packet[5:]
                )
            if "pna_tiny_packet" in self.faults and n == 0:
                packet = b"Z\x00\x08\x00\x08\x00\x00Z"
            self.write(packet)
            self.sent += 1
            index += 1
            if n % 20 == 19:
                self.server._notify()
        return True
